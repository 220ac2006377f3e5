/* floor_screen.c - a diagnostic for `make bench`: the least an ncursesw
 * program can do to put the kiosk's whole sign-in screen up, rather than the
 * floor's one line. Same libraries and locale call as floor.c, the same curses
 * set-up as the kiosk (keypad, colours), the same rows of text, rules, box and
 * attributes, from constants: no form, no files, no work. The gap between it
 * and floor.c is what drawing a full screen costs; the gap between the kiosk
 * and it is the kiosk's own work. */
#include <curses.h>
#include <locale.h>

int main(void)
{
	setlocale(LC_ALL, "");
	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	attr_t header = A_REVERSE;
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(1, COLOR_WHITE, COLOR_BLUE);
		init_pair(4, COLOR_CYAN, -1);
		header = COLOR_PAIR(1) | A_BOLD;
	}
	attron(header);
	mvhline(0, 0, ' ', COLS);
	mvaddstr(0, 0, " StoryKiosk \xc2\xb7 Tell us about your care \xc2\xb7 not signed in");
	attroff(header);
	mvhline(1, 0, ACS_HLINE, COLS);
	mvhline(LINES - 2, 0, ACS_HLINE, COLS);
	attron(A_BOLD);
	mvaddstr(3, 2, "Start of shift: please sign in");
	attroff(A_BOLD);
	mvaddstr(5, 2, "Type your name or staff ID. It is saved with every story you take, until");
	mvaddstr(6, 2, "you end your shift from the menu (Esc).");
	attron(A_BOLD);
	mvaddch(8, 2, ACS_ULCORNER);
	mvhline(8, 3, ACS_HLINE, 48);
	mvaddch(8, 51, ACS_URCORNER);
	mvaddch(9, 2, ACS_VLINE);
	mvaddch(9, 51, ACS_VLINE);
	mvaddch(10, 2, ACS_LLCORNER);
	mvhline(10, 3, ACS_HLINE, 48);
	mvaddch(10, 51, ACS_LRCORNER);
	attroff(A_BOLD);
	mvaddstr(12, 2, "You are:");
	mvaddstr(13, 4, "( ) Staff member");
	mvaddstr(14, 4, "( ) Volunteer");
	mvaddstr(19, 2, "Up and Down to move, Enter to choose, Ctrl-N to start.");
	mvaddstr(LINES - 1, 1, "^N Next  ^P Back  Tab Buttons  Esc Menu");
	mvaddstr(LINES - 1, COLS - 19, "[ Back ] [ Next ]");
	move(9, 4);
	refresh();
	getch();
	endwin();
	return 0;
}
