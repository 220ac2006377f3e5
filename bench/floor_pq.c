/* floor_pq.c - a diagnostic for `make bench`: the least memory a PostgreSQL
 * client linked as storykiosk-sync is (libpq and libcurl; curl is never
 * initialised on the PostgreSQL path) can use: connect to the same server,
 * run one INSERT in a transaction, disconnect. Its peak resident memory, next
 * to sync's, shows how much of sync's is the libraries.
 *   floor_pq CONNINFO */
#include <libpq-fe.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: floor_pq CONNINFO\n", stderr);
		return 2;
	}
	PGconn *conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "floor_pq: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	PGresult *r = PQexec(conn, "BEGIN; CREATE TEMP TABLE floor_pq (x text); "
			     "INSERT INTO floor_pq VALUES ('one'); COMMIT");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "floor_pq: %s", PQerrorMessage(conn));
	PQclear(r);
	PQfinish(conn);
	return ok ? 0 : 1;
}
