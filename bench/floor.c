/* floor.c - the start-up floor for `make bench`: the least an ncursesw program
 * can do to put one line on the screen. Same libraries as the kiosk's UI, the
 * same locale call, one line drawn, one refresh, then it waits for a key. */
#include <curses.h>
#include <locale.h>

int main(void)
{
	setlocale(LC_ALL, "");
	initscr();
	cbreak();
	noecho();
	mvaddstr(0, 0, "Start of shift: please sign in - Esc Menu");
	refresh();
	getch();
	endwin();
	return 0;
}
