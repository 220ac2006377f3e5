/* sync_targets.c - choosing the delivery target from what the operator wrote:
 * an https:// URL goes to the HTTP intake, anything libpq accepts to PostgreSQL. */
#include "sync.h"

#include <string.h>
#include <strings.h>

const sync_target_ops *sync_target_for(const char *target)
{
	if (target == NULL || target[0] == '\0')
		return NULL;
	if (strncasecmp(target, "https://", 8) == 0 || strncasecmp(target, "http://", 7) == 0)
		return &sync_http_ops;
	if (strncasecmp(target, "postgresql://", 13) == 0 || strncasecmp(target, "postgres://", 11) == 0 ||
	    strchr(target, '=') != NULL)
		return &sync_pg_ops;
	return NULL;
}
