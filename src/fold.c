/* fold.c - Latin letters folded to the ASCII letters people type for them.
 * A table of our own, not a library: glibc's iconv "ASCII//TRANSLIT" follows
 * the locale (de_DE turns "Müller" into "Mueller", tr_TR fails on 'ß' and
 * 'ı', the C locale gives "?"), and the kiosk must match the same way on
 * every ward; ICU or libunistring would do it but are not linked. The base
 * letters follow the Unicode canonical decompositions, with the letters that
 * have none (æ œ ß ð þ ø ł đ ħ ŧ ĳ) spelled as they are usually typed. */
#include "fold.h"

#include <string.h>

/* Base letters of U+00C0..U+00FF, in order; "" for × and ÷. */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Base letters of Latin Extended-A (U+0100..U+017F) by range. */
static const struct {
	uint16_t first, last;
	char fold[3];
} latin_ext_a[] = {
	{ 0x100, 0x105, "a" }, { 0x106, 0x10D, "c" }, { 0x10E, 0x111, "d" }, { 0x112, 0x11B, "e" },
	{ 0x11C, 0x123, "g" }, { 0x124, 0x127, "h" }, { 0x128, 0x131, "i" }, { 0x132, 0x133, "ij" },
	{ 0x134, 0x135, "j" }, { 0x136, 0x138, "k" }, { 0x139, 0x142, "l" }, { 0x143, 0x14B, "n" },
	{ 0x14C, 0x151, "o" }, { 0x152, 0x153, "oe" }, { 0x154, 0x159, "r" }, { 0x15A, 0x161, "s" },
	{ 0x162, 0x167, "t" }, { 0x168, 0x173, "u" }, { 0x174, 0x175, "w" }, { 0x176, 0x178, "y" },
	{ 0x179, 0x17E, "z" }, { 0x17F, 0x17F, "s" },
};

size_t fold_letter(uint32_t c, char out[2])
{
	const char *f = NULL;
	if (c < 0x80) {
		if (c >= 'A' && c <= 'Z') {
			out[0] = (char)(c - 'A' + 'a');
			return 1;
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[0] = (char)c;
			return 1;
		}
		return 0;
	}
	if (c >= 0xC0 && c <= 0xFF) {
		f = latin1_fold[c - 0xC0];
	} else if (c >= 0x100 && c <= 0x17F) {
		for (size_t i = 0; i < sizeof latin_ext_a / sizeof latin_ext_a[0]; i++)
			if (c >= latin_ext_a[i].first && c <= latin_ext_a[i].last)
				f = latin_ext_a[i].fold;
	}
	if (f == NULL)
		return 0;
	size_t n = strlen(f);
	memcpy(out, f, n);
	return n;
}
