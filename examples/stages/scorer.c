/* SPDX-License-Identifier: MIT */
/*
 * scorer: a payment-risk scorer whose rules stay inside the stage. It takes one flat JSON record
 *
 *   {"amount": 1250.00, "country": "DE", "card_present": false, "account_age_days": 12}
 *
 * and answers {"score": 0..100, "decision": "approve"|"review"|"decline", "reasons": [...]}.
 * Unknown fields are ignored; malformed input is refused with EBCC_ERR_INVALID_ARG. Plain C: a
 * stage carries no JSON library, so this parses just the flat objects it accepts.
 *
 * Build: cc scorer.c $(pkg-config --cflags --libs libebcc-stage)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

struct record {
	double amount;
	char country[3];
	int card_present; /* -1 unknown */
	double account_age_days;
	int have_amount;
};

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int expect(struct cursor *c, char ch)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* A string without escapes other than \" and \\, into out (cut to size). */
static int parse_string(struct cursor *c, char *out, size_t size)
{
	size_t o = 0;

	if (expect(c, '"') < 0)
		return -1;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;

		if ((unsigned char)ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (c->p >= c->end || (*c->p != '"' && *c->p != '\\'))
				return -1;
			ch = *c->p++;
		}
		if (o + 1 < size)
			out[o++] = ch;
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	out[o] = '\0';
	return 0;
}

static int parse_number(struct cursor *c, double *ret)
{
	char buf[32], *end;
	size_t n = 0;

	skip_ws(c);
	while (c->p < c->end && n + 1 < sizeof(buf) && strchr("0123456789+-.eE", *c->p) != NULL)
		buf[n++] = *c->p++;
	buf[n] = '\0';
	if (n == 0)
		return -1;
	*ret = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

static int parse_literal(struct cursor *c, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(c->end - c->p) < len || memcmp(c->p, word, len) != 0)
		return -1;
	c->p += len;
	return 0;
}

static int parse_record(const char *text, size_t len, struct record *r)
{
	struct cursor c = { text, text + len };
	int fields = 0;

	*r = (struct record){ .card_present = -1 };
	if (expect(&c, '{') < 0)
		return -1;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}')
		return -1; /* an empty record scores nothing */
	for (;;) {
		char key[32], value[32];
		double number;

		if (++fields > 32 || parse_string(&c, key, sizeof(key)) < 0 || expect(&c, ':') < 0)
			return -1;
		skip_ws(&c);
		if (c.p >= c.end)
			return -1;
		if (*c.p == '"') {
			if (parse_string(&c, value, sizeof(value)) < 0)
				return -1;
			if (strcmp(key, "country") == 0 && strlen(value) == 2)
				memcpy(r->country, value, 3);
		} else if (*c.p == 't' || *c.p == 'f' || *c.p == 'n') {
			int truth = *c.p == 't';

			if (parse_literal(&c, *c.p == 't' ? "true" : *c.p == 'f' ? "false" : "null") < 0)
				return -1;
			if (strcmp(key, "card_present") == 0)
				r->card_present = truth;
		} else {
			if (parse_number(&c, &number) < 0)
				return -1;
			if (strcmp(key, "amount") == 0) {
				r->amount = number;
				r->have_amount = 1;
			} else if (strcmp(key, "account_age_days") == 0) {
				r->account_age_days = number;
			}
		}
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (expect(&c, '}') < 0)
			return -1;
		skip_ws(&c);
		return c.p == c.end && r->have_amount && r->amount >= 0 ? 0 : -1;
	}
}

static int handle(const void *request, size_t len, void **ret_response, size_t *ret_len,
		  void *userdata)
{
	const char *reasons[4];
	size_t n_reasons = 0, out_len;
	struct record rec;
	char *out, line[128];
	int score = 5;

	(void)userdata;
	if (parse_record(request, len, &rec) < 0) {
		ebcc_stage_log("scorer: refused a malformed record");
		return EBCC_ERR_INVALID_ARG;
	}
	if (rec.amount > 1000) {
		score += rec.amount > 5000 ? 45 : 25;
		reasons[n_reasons++] = "high amount";
	}
	if (rec.card_present == 0) {
		score += 20;
		reasons[n_reasons++] = "card not present";
	}
	if (rec.account_age_days < 30) {
		score += 25;
		reasons[n_reasons++] = "new account";
	}
	if (rec.country[0] != '\0' && strcmp(rec.country, "DE") != 0 && strcmp(rec.country, "FR") != 0) {
		score += 10;
		reasons[n_reasons++] = "foreign country";
	}
	if (score > 100)
		score = 100;

	out_len = 128 + n_reasons * 24;
	out = malloc(out_len);
	if (out == NULL)
		return EBCC_ERR_NO_MEMORY;
	len = (size_t)snprintf(out, out_len, "{\"score\": %d, \"decision\": \"%s\", \"reasons\": [",
			       score, score >= 70 ? "decline" : score >= 40 ? "review" : "approve");
	for (size_t i = 0; i < n_reasons; i++)
		len += (size_t)snprintf(out + len, out_len - len, "%s\"%s\"", i ? ", " : "", reasons[i]);
	len += (size_t)snprintf(out + len, out_len - len, "]}");
	snprintf(line, sizeof(line), "scorer: amount %.2f scored %d", rec.amount, score);
	ebcc_stage_log(line);
	*ret_response = out;
	*ret_len = len;
	return 0;
}

int main(void)
{
	return ebcc_stage_serve(handle, NULL) < 0 ? 1 : 0;
}
