/* SPDX-License-Identifier: MIT */
/*
 * Samples and their summaries: the median (the mean of the two middle values for an even
 * count), the nearest-rank 99th percentile, min, max and mean. The clock is CLOCK_MONOTONIC.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int samples_add(struct samples *s, uint64_t value)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint64_t *grown = realloc(s->v, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		s->v = grown;
		s->cap = cap;
	}
	s->v[s->n++] = value;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	*s = (struct samples){ 0 };
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void samples_summarize(const struct samples *s, struct summary *ret)
{
	uint64_t *sorted;
	double sum = 0;
	size_t rank;

	*ret = (struct summary){ 0 };
	if (s->n == 0)
		return;
	sorted = malloc(s->n * sizeof(*sorted));
	if (sorted == NULL)
		return;
	memcpy(sorted, s->v, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), compare_u64);
	for (size_t i = 0; i < s->n; i++)
		sum += (double)sorted[i];
	ret->n = s->n;
	ret->median = s->n % 2 ? (double)sorted[s->n / 2]
			       : ((double)sorted[s->n / 2 - 1] + (double)sorted[s->n / 2]) / 2;
	/* Nearest rank: the smallest value with at least 99 % of the samples at or below it. */
	rank = (99 * s->n + 99) / 100;
	ret->p99 = (double)sorted[(rank > 0 ? rank : 1) - 1];
	ret->min = (double)sorted[0];
	ret->max = (double)sorted[s->n - 1];
	ret->mean = sum / (double)s->n;
	free(sorted);
}
