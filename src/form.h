/* form.h - the conversation guide as data: a form file in forms/ lists the
 * wizard's steps in order. Pure parsing: no curses. Format: storykiosk-form(5). */
#ifndef STORYKIOSK_FORM_H
#define STORYKIOSK_FORM_H

#include <stddef.h>

/* What a step asks for; the UI renders a step from its type. */
typedef enum {
	STEP_INFO,
	STEP_TEXT,
	STEP_LINE,
	STEP_CHOICE,
	STEP_USERNAME,
	STEP_POSTCODE,
	STEP_SERVICES,
	STEP_EMAIL,
	STEP_REVIEW,
	STEP_CONSENT,
	STEP_THANKS
} step_type;

/* One choice of a choice step: the value stored and the label shown. */
typedef struct {
	char *value;
	char *label;
} form_option;

/* One screen of the wizard. */
typedef struct {
	char *key;              /* unique in the form; answers are keyed on it */
	step_type type;
	char *title;            /* short heading, also in the progress line */
	char **text;            /* paragraphs: the question or the script to read out */
	size_t n_text;
	char **hints;           /* follow-up prompts shown beside a text area */
	size_t n_hints;
	form_option *options;   /* choice steps only */
	size_t n_options;
	int required;           /* non-zero: Next is blocked until answered */
	size_t max_chars;       /* longest answer in characters */
	size_t warn_words;      /* text steps: warn past this many words */
	int line_no;            /* where the step starts in the file, for messages */
} form_step;

/* A parsed form file. */
typedef struct {
	char *path;             /* file it came from, for messages */
	char *name;             /* stored with each story */
	char *version;          /* stored with each story */
	char *title;            /* shown in the header */
	char *theme;            /* optional focus line shown on text steps, or NULL */
	char *consent_version;  /* version of the consent statement */
	char *safeguarding;     /* what the operator does when a story mentions harm, or NULL */
	char *safeguarding_phrases; /* phrase list file in data/, or NULL for the default */
	char *safety;           /* how a possible patient safety incident is followed up, or NULL */
	char *safety_phrases;   /* phrase list file in data/, or NULL for the default */
	form_step *steps;
	size_t n_steps;
} form;

/* Load and check the form file at path; NULL on failure with
 * "PATH:LINE: problem" in err. */
form *form_load(const char *path, char *err, size_t errlen);

/* Parse form text held in memory; name stands for the file in messages. */
form *form_parse(const char *text, size_t len, const char *name,
		 char *err, size_t errlen);

/* Free a form (NULL is fine). */
void form_free(form *f);

/* The type's name as written in form files ("text", "consent", ...). */
const char *form_step_type_name(step_type type);

/* Index of the step with this key, or -1. */
int form_find_step(const form *f, const char *key);

/* Index of the first step of this type, or -1. */
int form_find_type(const form *f, step_type type);

#endif
