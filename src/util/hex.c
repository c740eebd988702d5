/* SPDX-License-Identifier: BSD-2-Clause */
#include "util/hex.h"

#include <stdint.h>

static const char hex_lower_digits[] = "0123456789abcdef";

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void hex_encode(char *out, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower_digits[b[i] >> 4];
		out[2 * i + 1] = hex_lower_digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_decode(void *out, const char *s, size_t n)
{
	uint8_t *b = out;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]);
		if (hi < 0)
			return -1;
		int lo = hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool hex_is_lower(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}
