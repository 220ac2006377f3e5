/* form.c - reads a form file (storykiosk-form(5)) into the wizard's steps and
 * checks the whole form, so that a ward never starts on a form with a mistake
 * in it. Pure: form_parse works on memory; form_load adds reading the file. */
#include "form.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "validate.h"

/* Limits in bytes unless they say characters; storykiosk-form(5) has them. */
#define FORM_MAX_BYTES ((size_t)1024 * 1024)
#define FORM_MAX_LINE 4096
#define FORM_MAX_KEY 40
#define FORM_MAX_IDENT 40       /* name, versions, option values */
#define FORM_MAX_STEPS 100
#define FORM_MAX_OPTIONS 12     /* more would not fit one 80x24 screen */
#define FORM_MAX_TITLE 60       /* characters: must fit the progress line */
#define FORM_MAX_THEME 120      /* characters */
#define FORM_MAX_LABEL 60       /* characters */
#define FORM_MAX_NUMBER 100000

#if defined(__GNUC__)
#define FORM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FORM_PRINTF(f, a)
#endif

/* What each step type allows and what it gets when the file is silent. Indexed
 * by step_type; the order of names is the order the man page lists them in. */
typedef struct {
	const char *name;
	int is_question;          /* asks for an answer: must come before consent */
	int takes_required;       /* 'required' may be written on it */
	int default_required;
	int takes_max_chars;
	size_t default_max_chars; /* 0: the form sets no limit on this type */
	size_t default_warn_words;
	int needs_text;           /* nothing to show without a paragraph */
} step_kind;

static const step_kind step_kinds[] = {
	[STEP_INFO] =     { "info",     0, 0, 0, 0, 0,     0,    1 },
	[STEP_TEXT] =     { "text",     1, 1, 1, 1, 20000, 1000, 0 },
	[STEP_LINE] =     { "line",     1, 1, 1, 1, 120,   0,    0 },
	[STEP_CHOICE] =   { "choice",   1, 1, 1, 0, 0,     0,    0 },
	[STEP_USERNAME] = { "username", 1, 1, 1, 1, 30,    0,    0 },
	[STEP_POSTCODE] = { "postcode", 1, 1, 1, 0, 16,    0,    0 },
	[STEP_SERVICES] = { "services", 1, 1, 1, 0, 0,     0,    0 },
	[STEP_EMAIL] =    { "email",    1, 1, 1, 0, 254,   0,    0 },
	[STEP_REVIEW] =   { "review",   0, 0, 0, 0, 0,     0,    0 },
	[STEP_CONSENT] =  { "consent",  0, 1, 1, 0, 0,     0,    1 },
	[STEP_THANKS] =   { "thanks",   0, 0, 0, 0, 0,     0,    1 },
};
#define N_STEP_KINDS (sizeof step_kinds / sizeof step_kinds[0])

/* Attributes a step may carry; the parser remembers where each first appeared
 * so a misplaced one can be reported on its own line once the type is known. */
enum step_attr {
	ATTR_TYPE,
	ATTR_TITLE,
	ATTR_TEXT,
	ATTR_HINT,
	ATTR_OPTION,
	ATTR_REQUIRED,
	ATTR_MAX_CHARS,
	ATTR_WARN_WORDS,
	N_STEP_ATTRS
};

static const char *const step_attr_names[N_STEP_ATTRS] = {
	"type", "title", "text", "hint", "option", "required", "max_chars",
	"warn_words",
};

enum header_attr {
	HEAD_NAME,
	HEAD_VERSION,
	HEAD_TITLE,
	HEAD_THEME,
	HEAD_CONSENT_VERSION,
	HEAD_SAFEGUARDING,
	HEAD_SAFEGUARDING_PHRASES,
	HEAD_SAFETY,
	HEAD_SAFETY_PHRASES,
	N_HEADER_ATTRS
};

static const char *const header_attr_names[N_HEADER_ATTRS] = {
	"name", "version", "title", "theme", "consent_version",
	"safeguarding", "safeguarding_phrases", "safety", "safety_phrases",
};

/* Placeholders the wizard fills in inside 'text' paragraphs. */
static const char *const placeholders[] = { "operator" };
#define N_PLACEHOLDERS (sizeof placeholders / sizeof placeholders[0])

/* The steps the export and the wizard cannot do without, one of each. */
static const step_type single_steps[] = {
	STEP_USERNAME, STEP_POSTCODE, STEP_SERVICES, STEP_EMAIL, STEP_CONSENT,
};
#define N_SINGLE_STEPS (sizeof single_steps / sizeof single_steps[0])

typedef struct {
	const char *name;          /* the file, for messages */
	char *err;
	size_t errlen;
	int failed;
	int line_no;
	form *f;
	size_t steps_cap;
	size_t text_cap;           /* of the step being read */
	size_t hints_cap;
	size_t options_cap;
	int attr_line[N_STEP_ATTRS];     /* of the step being read; 0: absent */
	int header_line[N_HEADER_ATTRS];
	int saw_content;
} form_parser;

static void complain(form_parser *p, int line, const char *fmt, ...)
	FORM_PRINTF(3, 4);

/* Only the first problem is kept: later ones are often echoes of it. */
static void complain(form_parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int used;

	if (p->failed)
		return;
	p->failed = 1;
	if (p->err == NULL || p->errlen == 0)
		return;
	used = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	if (used < 0 || (size_t)used >= p->errlen)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(p->err + used, p->errlen - (size_t)used, fmt, ap);
	va_end(ap);
}

static void out_of_memory(form_parser *p)
{
	complain(p, p->line_no, "out of memory");
}

static char *copy_text(form_parser *p, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		out_of_memory(p);
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

/* Grow an array of elem-sized items so that one more fits. */
static int make_room(form_parser *p, void **items, size_t used, size_t *cap,
		     size_t elem)
{
	size_t new_cap;
	void *grown;

	if (used < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 4;
	grown = realloc(*items, new_cap * elem);
	if (grown == NULL) {
		out_of_memory(p);
		return -1;
	}
	*items = grown;
	*cap = new_cap;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim spaces and tabs from both ends of s[0..*len); returns the new start. */
static const char *trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

static int all_chars_in(const char *s, const char *allowed_punct, int upper_ok)
{
	const char *c;

	for (c = s; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
			continue;
		if (upper_ok && *c >= 'A' && *c <= 'Z')
			continue;
		if (strchr(allowed_punct, *c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

/* A step key or an option value: lower case so that answers and exports key on
 * one spelling. */
static int is_key(const char *s)
{
	return *s != '\0' && all_chars_in(s, "_", 0);
}

static int is_identifier(const char *s)
{
	return *s != '\0' && all_chars_in(s, "._-", 1);
}

static int placeholder_known(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < N_PLACEHOLDERS; i++)
		if (strlen(placeholders[i]) == len &&
		    memcmp(placeholders[i], s, len) == 0)
			return 1;
	return 0;
}

/* Finds "{word}" in s; a typo such as {operater} would otherwise reach a
 * patient's screen. Returns 0 when fine. */
static int check_placeholders(form_parser *p, const char *attr,
			      const char *value, int allowed)
{
	const char *open = value;

	while ((open = strchr(open, '{')) != NULL) {
		const char *c = open + 1;

		while ((*c >= 'a' && *c <= 'z') || *c == '_')
			c++;
		if (*c == '}' && c > open + 1) {
			int len = (int)(c - open - 1);

			if (!allowed) {
				complain(p, p->line_no,
					 "placeholders such as {%.*s} only work in 'text' "
					 "paragraphs, not in '%s'",
					 len, open + 1, attr);
				return -1;
			}
			if (!placeholder_known(open + 1, (size_t)len)) {
				complain(p, p->line_no,
					 "unknown placeholder {%.*s}; the only one is {operator}",
					 len, open + 1);
				return -1;
			}
		}
		open = c;
	}
	return 0;
}

static int check_length(form_parser *p, const char *what, const char *value,
			size_t max)
{
	if (validate_utf8_length(value) > max) {
		complain(p, p->line_no, "%s is longer than %zu characters", what,
			 max);
		return -1;
	}
	return 0;
}

static int parse_number(form_parser *p, const char *attr, const char *value,
			size_t *out)
{
	const char *c;
	size_t n = 0;

	for (c = value; *c != '\0'; c++) {
		if (*c < '0' || *c > '9' || n > FORM_MAX_NUMBER) {
			n = 0;
			break;
		}
		n = n * 10 + (size_t)(*c - '0');
	}
	if (n < 1 || n > FORM_MAX_NUMBER) {
		complain(p, p->line_no,
			 "%s must be a whole number from 1 to %d, not '%s'", attr,
			 FORM_MAX_NUMBER, value);
		return -1;
	}
	*out = n;
	return 0;
}

static form_step *current_step(form_parser *p)
{
	return p->f->n_steps ? &p->f->steps[p->f->n_steps - 1] : NULL;
}

/* Whether attr may appear on a step of this type. */
static int attr_fits(enum step_attr attr, step_type type)
{
	switch (attr) {
	case ATTR_HINT:
	case ATTR_WARN_WORDS:
		return type == STEP_TEXT;
	case ATTR_OPTION:
		return type == STEP_CHOICE;
	case ATTR_REQUIRED:
		return step_kinds[type].takes_required;
	case ATTR_MAX_CHARS:
		return step_kinds[type].takes_max_chars;
	default:
		return 1;
	}
}

static void complain_misfit(form_parser *p, int line, enum step_attr attr,
			    const form_step *step)
{
	const char *type = step_kinds[step->type].name;

	switch (attr) {
	case ATTR_OPTION:
		complain(p, line,
			 "'option' only belongs on choice steps; step [%s] is a %s step",
			 step->key, type);
		break;
	case ATTR_HINT:
	case ATTR_WARN_WORDS:
		complain(p, line,
			 "'%s' only belongs on text steps; step [%s] is a %s step",
			 step_attr_names[attr], step->key, type);
		break;
	case ATTR_MAX_CHARS:
		complain(p, line,
			 "'max_chars' only belongs on text, line and username "
			 "steps; step [%s] is a %s step",
			 step->key, type);
		break;
	default:
		complain(p, line,
			 "'%s' does not apply to %s steps such as [%s]: they ask "
			 "no question",
			 step_attr_names[attr], type, step->key);
		break;
	}
}

static int append_paragraph(form_parser *p, char ***list, size_t *n,
			    size_t *cap, const char *value)
{
	char *copy;

	if (make_room(p, (void **)list, *n, cap, sizeof **list) < 0)
		return -1;
	copy = copy_text(p, value, strlen(value));
	if (copy == NULL)
		return -1;
	(*list)[(*n)++] = copy;
	return 0;
}

static int add_option(form_parser *p, form_step *step, const char *value)
{
	const char *bar = strchr(value, '|');
	const char *val, *label;
	size_t val_len, label_len, i;
	form_option *opt;

	if (bar == NULL) {
		complain(p, p->line_no,
			 "an option looks like 'value | label', with a '|' between "
			 "the stored value and the words shown");
		return -1;
	}
	val_len = (size_t)(bar - value);
	val = trim(value, &val_len);
	label_len = strlen(bar + 1);
	label = trim(bar + 1, &label_len);
	if (val_len == 0 || label_len == 0) {
		complain(p, p->line_no, "an option needs both a value and a label: "
			 "'value | label'");
		return -1;
	}
	if (make_room(p, (void **)&step->options, step->n_options,
		      &p->options_cap, sizeof *step->options) < 0)
		return -1;
	opt = &step->options[step->n_options];
	opt->value = copy_text(p, val, val_len);
	opt->label = NULL;
	if (opt->value == NULL)
		return -1;
	step->n_options++;
	opt->label = copy_text(p, label, label_len);
	if (opt->label == NULL)
		return -1;
	if (!is_key(opt->value) || val_len > FORM_MAX_IDENT) {
		complain(p, p->line_no,
			 "option value '%s' may only use lower-case letters, digits "
			 "and '_' (at most %d)",
			 opt->value, FORM_MAX_IDENT);
		return -1;
	}
	if (check_length(p, "an option label", opt->label, FORM_MAX_LABEL) < 0 ||
	    check_placeholders(p, "option", opt->label, 0) < 0)
		return -1;
	for (i = 0; i + 1 < step->n_options; i++) {
		if (strcmp(step->options[i].value, opt->value) == 0) {
			complain(p, p->line_no,
				 "option value '%s' is used twice in step [%s]",
				 opt->value, step->key);
			return -1;
		}
	}
	if (step->n_options > FORM_MAX_OPTIONS) {
		complain(p, p->line_no,
			 "a choice step can have at most %d options, so that they "
			 "fit on one screen",
			 FORM_MAX_OPTIONS);
		return -1;
	}
	return 0;
}

static int set_step_attr(form_parser *p, form_step *step, enum step_attr attr,
			 const char *value)
{
	size_t i;

	if (check_placeholders(p, step_attr_names[attr], value,
			       attr == ATTR_TEXT) < 0)
		return -1;
	switch (attr) {
	case ATTR_TYPE:
		for (i = 0; i < N_STEP_KINDS; i++) {
			if (strcmp(step_kinds[i].name, value) == 0) {
				step->type = (step_type)i;
				return 0;
			}
		}
		complain(p, p->line_no,
			 "unknown step type '%s'; use one of info, text, line, "
			 "choice, username, postcode, services, email, review, "
			 "consent, thanks",
			 value);
		return -1;
	case ATTR_TITLE:
		if (check_length(p, "a step title", value, FORM_MAX_TITLE) < 0)
			return -1;
		step->title = copy_text(p, value, strlen(value));
		return step->title ? 0 : -1;
	case ATTR_TEXT:
		return append_paragraph(p, &step->text, &step->n_text,
					&p->text_cap, value);
	case ATTR_HINT:
		return append_paragraph(p, &step->hints, &step->n_hints,
					&p->hints_cap, value);
	case ATTR_OPTION:
		return add_option(p, step, value);
	case ATTR_REQUIRED:
		if (strcmp(value, "yes") == 0) {
			step->required = 1;
		} else if (strcmp(value, "no") == 0) {
			step->required = 0;
		} else {
			complain(p, p->line_no,
				 "required must be 'yes' or 'no', not '%s'", value);
			return -1;
		}
		return 0;
	case ATTR_MAX_CHARS:
		return parse_number(p, "max_chars", value, &step->max_chars);
	case ATTR_WARN_WORDS:
		return parse_number(p, "warn_words", value, &step->warn_words);
	case N_STEP_ATTRS:
		break;
	}
	return -1;
}

/* Checks a step once all its lines are read, and fills in the defaults. */
static int finish_step(form_parser *p)
{
	form_step *step = current_step(p);
	const step_kind *kind;
	int worst_line = 0;
	enum step_attr worst = ATTR_TYPE;
	int a;

	if (step == NULL)
		return 0;
	if (p->attr_line[ATTR_TYPE] == 0) {
		complain(p, step->line_no,
			 "step [%s] has no type; add a line such as 'type = text'",
			 step->key);
		return -1;
	}
	kind = &step_kinds[step->type];
	/* The type may come after other attributes, so misplaced ones are only
	 * known now; report the first in the file. */
	for (a = 0; a < N_STEP_ATTRS; a++) {
		int line = p->attr_line[a];

		if (line != 0 && !attr_fits((enum step_attr)a, step->type) &&
		    (worst_line == 0 || line < worst_line)) {
			worst_line = line;
			worst = (enum step_attr)a;
		}
	}
	if (worst_line != 0) {
		complain_misfit(p, worst_line, worst, step);
		return -1;
	}
	if (step->title == NULL) {
		complain(p, step->line_no,
			 "step [%s] has no title; add a line such as 'title = What "
			 "was good?'",
			 step->key);
		return -1;
	}
	if (kind->needs_text && step->n_text == 0) {
		complain(p, step->line_no,
			 "%s step [%s] has nothing to show; add at least one "
			 "'text = ...' paragraph",
			 kind->name, step->key);
		return -1;
	}
	if (step->type == STEP_CHOICE && step->n_options < 2) {
		complain(p, step->line_no,
			 "choice step [%s] needs at least two 'option = value | "
			 "label' lines",
			 step->key);
		return -1;
	}
	if (p->attr_line[ATTR_REQUIRED] == 0)
		step->required = kind->default_required;
	if (step->type == STEP_CONSENT && !step->required) {
		complain(p, p->attr_line[ATTR_REQUIRED],
			 "a consent step is always required; remove 'required = no'");
		return -1;
	}
	if (p->attr_line[ATTR_MAX_CHARS] == 0)
		step->max_chars = kind->default_max_chars;
	if (p->attr_line[ATTR_WARN_WORDS] == 0)
		step->warn_words = kind->default_warn_words;
	return 0;
}

static int start_step(form_parser *p, const char *line, size_t len)
{
	size_t key_len;
	const char *key;
	form_step *step;
	size_t i;

	if (len < 2 || line[len - 1] != ']') {
		complain(p, p->line_no,
			 "a step line looks like [good], with nothing after the "
			 "']'");
		return -1;
	}
	key_len = len - 2;
	key = trim(line + 1, &key_len);
	if (finish_step(p) < 0)
		return -1;
	if (key_len == 0) {
		complain(p, p->line_no, "a step needs a key between '[' and ']'");
		return -1;
	}
	for (i = 0; i < p->f->n_steps; i++) {
		const form_step *other = &p->f->steps[i];

		if (strlen(other->key) == key_len &&
		    memcmp(other->key, key, key_len) == 0) {
			complain(p, p->line_no,
				 "step key [%s] is used twice (first at line %d)",
				 other->key, other->line_no);
			return -1;
		}
	}
	if (p->f->n_steps >= FORM_MAX_STEPS) {
		complain(p, p->line_no, "a form can have at most %d steps",
			 FORM_MAX_STEPS);
		return -1;
	}
	if (make_room(p, (void **)&p->f->steps, p->f->n_steps, &p->steps_cap,
		      sizeof *p->f->steps) < 0)
		return -1;
	step = &p->f->steps[p->f->n_steps];
	memset(step, 0, sizeof *step);
	step->line_no = p->line_no;
	step->key = copy_text(p, key, key_len);
	if (step->key == NULL)
		return -1;
	p->f->n_steps++;
	memset(p->attr_line, 0, sizeof p->attr_line);
	p->text_cap = p->hints_cap = p->options_cap = 0;
	if (!is_key(step->key) || key_len > FORM_MAX_KEY) {
		complain(p, p->line_no,
			 "step key [%s] may only use lower-case letters, digits and "
			 "'_' (at most %d)",
			 step->key, FORM_MAX_KEY);
		return -1;
	}
	return 0;
}

static int find_name(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static int set_header_attr(form_parser *p, enum header_attr attr,
			   const char *value)
{
	char **slot = NULL;
	const char *name = header_attr_names[attr];

	if (p->header_line[attr] != 0) {
		complain(p, p->line_no, "'%s' is given twice (first at line %d)",
			 name, p->header_line[attr]);
		return -1;
	}
	p->header_line[attr] = p->line_no;
	if (check_placeholders(p, name, value, 0) < 0)
		return -1;
	switch (attr) {
	case HEAD_NAME:
	case HEAD_VERSION:
	case HEAD_CONSENT_VERSION:
		if (!is_identifier(value) || strlen(value) > FORM_MAX_IDENT) {
			complain(p, p->line_no,
				 "%s '%s' may only use letters, digits, '.', '_' and "
				 "'-' (at most %d)",
				 name, value, FORM_MAX_IDENT);
			return -1;
		}
		slot = attr == HEAD_NAME ? &p->f->name :
		       attr == HEAD_VERSION ? &p->f->version :
					      &p->f->consent_version;
		break;
	case HEAD_TITLE:
		if (check_length(p, "the form's title", value, FORM_MAX_TITLE) < 0)
			return -1;
		slot = &p->f->title;
		break;
	case HEAD_THEME:
		if (check_length(p, "the theme", value, FORM_MAX_THEME) < 0)
			return -1;
		slot = &p->f->theme;
		break;
	case HEAD_SAFEGUARDING:
		slot = &p->f->safeguarding;
		break;
	case HEAD_SAFETY:
		slot = &p->f->safety;
		break;
	case HEAD_SAFEGUARDING_PHRASES:
	case HEAD_SAFETY_PHRASES:
		/* A file name in data/: no paths, so a form cannot point outside it. */
		if (strchr(value, '/') != NULL || value[0] == '.') {
			complain(p, p->line_no, "%s names a file in data/, like my-phrases.txt "
				 "(no '/' and not starting with '.')", name);
			return -1;
		}
		slot = attr == HEAD_SAFEGUARDING_PHRASES ? &p->f->safeguarding_phrases
							 : &p->f->safety_phrases;
		break;
	case N_HEADER_ATTRS:
		return -1;
	}
	*slot = copy_text(p, value, strlen(value));
	return *slot ? 0 : -1;
}

static int read_attribute(form_parser *p, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t name_len = (size_t)(eq - line);
	size_t value_len = len - name_len - 1;
	const char *name = trim(line, &name_len);
	const char *value_start = trim(eq + 1, &value_len);
	char attr[FORM_MAX_LINE + 1];
	char value[FORM_MAX_LINE + 1];
	form_step *step = current_step(p);
	int header = -1;
	int a;

	if (name_len == 0) {
		complain(p, p->line_no, "there is no attribute name before '='");
		return -1;
	}
	memcpy(attr, name, name_len);
	attr[name_len] = '\0';
	memcpy(value, value_start, value_len);
	value[value_len] = '\0';

	a = find_name(step_attr_names, N_STEP_ATTRS, attr);
	header = find_name(header_attr_names, N_HEADER_ATTRS, attr);
	if (step == NULL) {
		if (header < 0 && a >= 0) {
			complain(p, p->line_no,
				 "'%s' must come after a step line such as [good]; "
				 "before the first step only name, version, title, "
				 "theme, consent_version, safeguarding, safety and "
				 "their _phrases files are allowed",
				 attr);
			return -1;
		}
		if (header < 0) {
			complain(p, p->line_no,
				 "unknown attribute '%s' in the form header", attr);
			return -1;
		}
	} else if (a < 0) {
		if (header >= 0)
			complain(p, p->line_no,
				 "'%s' describes the whole form: put it at the top, "
				 "before the first step",
				 attr);
		else
			complain(p, p->line_no,
				 "unknown attribute '%s' in step [%s]", attr,
				 step->key);
		return -1;
	}
	if (value_len == 0) {
		complain(p, p->line_no, "'%s' has no value after '='", attr);
		return -1;
	}
	if (step == NULL)
		return set_header_attr(p, (enum header_attr)header, value);

	if (p->attr_line[a] != 0 && a != ATTR_TEXT && a != ATTR_HINT &&
	    a != ATTR_OPTION) {
		complain(p, p->line_no,
			 "'%s' is given twice in step [%s] (first at line %d)",
			 attr, step->key, p->attr_line[a]);
		return -1;
	}
	if (p->attr_line[a] == 0)
		p->attr_line[a] = p->line_no;
	if (p->attr_line[ATTR_TYPE] != 0 && a != ATTR_TYPE &&
	    !attr_fits((enum step_attr)a, step->type)) {
		complain_misfit(p, p->line_no, (enum step_attr)a, step);
		return -1;
	}
	return set_step_attr(p, step, (enum step_attr)a, value);
}

/* Tabs are the only control character a form may hold: anything else would
 * reach the screen (ESC sequences) or is a sign of a binary file. */
static int check_line_bytes(form_parser *p, const char *line, size_t len)
{
	size_t i;
	int beyond_ascii = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		beyond_ascii |= c >= 0x80;
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			complain(p, p->line_no,
				 "the line holds a control character (byte 0x%02X); "
				 "only plain text and tabs are allowed",
				 c);
			return -1;
		}
	}
	/* Most lines are plain ASCII: the form is read before the first
	 * screen, so they skip the two passes below. */
	if (!beyond_ascii)
		return 0;
	if (!validate_utf8(line, len)) {
		complain(p, p->line_no,
			 "the line is not valid UTF-8 text; save the file as UTF-8");
		return -1;
	}
	for (i = 0; i + 1 < len; i++) {
		unsigned char c = (unsigned char)line[i];
		unsigned char next = (unsigned char)line[i + 1];

		if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
			complain(p, p->line_no,
				 "the line holds a control character (U+%04X); only "
				 "plain text and tabs are allowed",
				 (unsigned)next);
			return -1;
		}
	}
	return 0;
}

static int read_line(form_parser *p, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > FORM_MAX_LINE) {
		complain(p, p->line_no, "the line is longer than %d bytes",
			 FORM_MAX_LINE);
		return -1;
	}
	if (check_line_bytes(p, line, len) < 0)
		return -1;
	line = trim(line, &len);
	if (len == 0 || line[0] == '#')
		return 0;
	p->saw_content = 1;
	if (line[0] == '[')
		return start_step(p, line, len);
	if (memchr(line, '=', len) != NULL)
		return read_attribute(p, line, len);
	complain(p, p->line_no,
		 "expected 'attribute = value' or a step line such as [good]");
	return -1;
}

static const form_step *step_after(const form *f, size_t from, int question,
				   step_type type)
{
	size_t i;

	for (i = from; i < f->n_steps; i++) {
		if (question ? step_kinds[f->steps[i].type].is_question :
			       f->steps[i].type == type)
			return &f->steps[i];
	}
	return NULL;
}

/* Checks that need the whole form: the steps the export depends on, and an
 * order in which consent is asked after every question. */
static int check_whole_form(form_parser *p)
{
	const form *f = p->f;
	size_t i;
	int consent, review;

	if (!p->saw_content) {
		complain(p, 0, "the form is empty");
		return -1;
	}
	if (f->name == NULL || f->version == NULL) {
		complain(p, 0,
			 "the form has no '%s = ...' line; put it at the top, before "
			 "the first step",
			 f->name == NULL ? "name" : "version");
		return -1;
	}
	if (f->n_steps == 0) {
		complain(p, 0, "the form has no steps");
		return -1;
	}
	for (i = 0; i < N_SINGLE_STEPS; i++) {
		const char *type = step_kinds[single_steps[i]].name;
		int first = form_find_type(f, single_steps[i]);
		const form_step *second;

		if (first < 0) {
			complain(p, 0,
				 "the form has no %s step; every form needs exactly one",
				 type);
			return -1;
		}
		second = step_after(f, (size_t)first + 1, 0, single_steps[i]);
		if (second != NULL) {
			complain(p, second->line_no,
				 "step [%s] is a second %s step; a form has exactly "
				 "one (the first is [%s] at line %d)",
				 second->key, type, f->steps[first].key,
				 f->steps[first].line_no);
			return -1;
		}
	}
	consent = form_find_type(f, STEP_CONSENT);
	review = form_find_type(f, STEP_REVIEW);
	if (review >= 0) {
		const form_step *second =
			step_after(f, (size_t)review + 1, 0, STEP_REVIEW);

		if (second != NULL) {
			complain(p, second->line_no,
				 "step [%s] is a second review step; a form has at "
				 "most one",
				 second->key);
			return -1;
		}
		if (review > consent) {
			complain(p, f->steps[review].line_no,
				 "the review step [%s] must come before the consent "
				 "step [%s]",
				 f->steps[review].key, f->steps[consent].key);
			return -1;
		}
	}
	{
		const form_step *late = step_after(f, (size_t)consent + 1, 1,
						   STEP_INFO);

		if (late != NULL) {
			complain(p, late->line_no,
				 "step [%s] asks a question after the consent step "
				 "[%s]; consent must come after every question",
				 late->key, f->steps[consent].key);
			return -1;
		}
	}
	for (i = 0; i + 1 < f->n_steps; i++) {
		if (f->steps[i].type == STEP_THANKS) {
			complain(p, f->steps[i].line_no,
				 "the thanks step [%s] must be the last step",
				 f->steps[i].key);
			return -1;
		}
	}
	{
		/* The export carries these two answers as top-level fields. */
		static const struct {
			const char *key;
			step_type type;
			const char *why;
		} fixed[] = {
			{ "title", STEP_LINE, "the story's title" },
			{ "role", STEP_CHOICE, "the author's role" },
		};

		for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
			int at = form_find_step(f, fixed[i].key);

			if (at < 0) {
				complain(p, 0,
					 "the form has no step [%s]; every form needs "
					 "a %s step with that key for %s",
					 fixed[i].key,
					 step_kinds[fixed[i].type].name,
					 fixed[i].why);
				return -1;
			}
			if (f->steps[at].type != fixed[i].type) {
				complain(p, f->steps[at].line_no,
					 "step [%s] must be a %s step: it holds %s",
					 fixed[i].key,
					 step_kinds[fixed[i].type].name,
					 fixed[i].why);
				return -1;
			}
		}
	}
	return 0;
}

static int fill_header_defaults(form_parser *p)
{
	form *f = p->f;

	if (f->title == NULL) {
		f->title = copy_text(p, f->name, strlen(f->name));
		if (f->title == NULL)
			return -1;
	}
	/* A new form version may change the consent wording, so without its own
	 * number the consent statement follows the form's version. */
	if (f->consent_version == NULL) {
		f->consent_version = copy_text(p, f->version, strlen(f->version));
		if (f->consent_version == NULL)
			return -1;
	}
	return 0;
}

form *form_parse(const char *text, size_t len, const char *name, char *err,
		 size_t errlen)
{
	form_parser p;
	size_t at = 0;

	memset(&p, 0, sizeof p);
	p.name = name ? name : "(form)";
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		len = 0;
	if (len > FORM_MAX_BYTES) {
		complain(&p, 0, "the file is larger than 1 MiB; a form is much "
			 "smaller than that");
		return NULL;
	}
	p.f = calloc(1, sizeof *p.f);
	if (p.f == NULL) {
		out_of_memory(&p);
		return NULL;
	}
	p.f->path = copy_text(&p, p.name, strlen(p.name));
	if (p.f->path == NULL)
		goto fail;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		at = 3; /* editors on Windows may add a byte order mark */
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;

		p.line_no++;
		if (read_line(&p, text + at, line_len) < 0)
			goto fail;
		at += line_len + (nl ? 1 : 0);
	}
	if (finish_step(&p) < 0 || check_whole_form(&p) < 0 ||
	    fill_header_defaults(&p) < 0)
		goto fail;
	return p.f;
fail:
	form_free(p.f);
	return NULL;
}

static void load_error(char *err, size_t errlen, const char *fmt, ...)
	FORM_PRINTF(3, 4);

static void load_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

form *form_load(const char *path, char *err, size_t errlen)
{
	FILE *file;
	char *text;
	size_t len = 0;
	int read_error;
	form *f;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	file = fopen(path, "rb");
	if (file == NULL) {
		load_error(err, errlen, "%s: cannot open the form file: %s", path,
			 strerror(errno));
		return NULL;
	}
	/* One byte more than allowed, so form_parse can tell the file is too big;
	 * and no more than the file holds, plus room to see that it ended: a
	 * megabyte's buffer would be mapped and unmapped before the first screen. */
	struct stat info;
	size_t room = FORM_MAX_BYTES + 1;
	if (fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode) && info.st_size >= 0 &&
	    (size_t)info.st_size < FORM_MAX_BYTES)
		room = (size_t)info.st_size + 2;
	text = malloc(room);
	if (text == NULL) {
		load_error(err, errlen, "%s: out of memory", path);
		(void)fclose(file);
		return NULL;
	}
	for (;;) {
		if (len == room) {
			/* The file grew after fstat: read on, up to the limit, where
			 * form_parse says it is too big. */
			if (room == FORM_MAX_BYTES + 1)
				break;
			char *bigger = realloc(text, FORM_MAX_BYTES + 1);
			if (bigger == NULL) {
				load_error(err, errlen, "%s: out of memory", path);
				(void)fclose(file);
				free(text);
				return NULL;
			}
			text = bigger;
			room = FORM_MAX_BYTES + 1;
		}
		size_t got = fread(text + len, 1, room - len, file);

		if (got == 0)
			break;
		len += got;
	}
	read_error = ferror(file);
	if (read_error) {
		int saved = errno;

		load_error(err, errlen, "%s: cannot read the form file: %s", path,
			 strerror(saved));
		(void)fclose(file);
		free(text);
		return NULL;
	}
	if (fclose(file) != 0) {
		load_error(err, errlen, "%s: cannot read the form file: %s", path,
			 strerror(errno));
		free(text);
		return NULL;
	}
	f = form_parse(text, len, path, err, errlen);
	free(text);
	return f;
}

static void free_paragraphs(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void form_free(form *f)
{
	size_t i, j;

	if (f == NULL)
		return;
	for (i = 0; i < f->n_steps; i++) {
		form_step *step = &f->steps[i];

		free(step->key);
		free(step->title);
		free_paragraphs(step->text, step->n_text);
		free_paragraphs(step->hints, step->n_hints);
		for (j = 0; j < step->n_options; j++) {
			free(step->options[j].value);
			free(step->options[j].label);
		}
		free(step->options);
	}
	free(f->steps);
	free(f->path);
	free(f->name);
	free(f->version);
	free(f->title);
	free(f->theme);
	free(f->consent_version);
	free(f->safeguarding);
	free(f->safeguarding_phrases);
	free(f->safety);
	free(f->safety_phrases);
	free(f);
}

const char *form_step_type_name(step_type type)
{
	if ((size_t)type >= N_STEP_KINDS)
		return "unknown";
	return step_kinds[type].name;
}

int form_find_step(const form *f, const char *key)
{
	size_t i;

	if (f == NULL || key == NULL)
		return -1;
	for (i = 0; i < f->n_steps; i++)
		if (strcmp(f->steps[i].key, key) == 0)
			return (int)i;
	return -1;
}

int form_find_type(const form *f, step_type type)
{
	size_t i;

	if (f == NULL)
		return -1;
	for (i = 0; i < f->n_steps; i++)
		if (f->steps[i].type == type)
			return (int)i;
	return -1;
}
