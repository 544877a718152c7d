/* verify's chunk selection options and per-disk accumulation (cli_vselect.h). */
#include "cli/cli_vselect.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int cli_vsel_arg(const struct cli_cmd *cmd, struct cli_vsel_args *a, const char *name,
		 const char *arg)
{
	struct rp_err err;

	rp_err_init(&err);
	if (strcmp(name, "sample") == 0) {
		char pct[32];
		size_t n = strlen(arg);

		/* "5%" is "5": one percent sign may follow the number (not "5%%"). */
		a->has_sample = true;
		if (n && arg[n - 1] == '%' && n < sizeof(pct)) {
			memcpy(pct, arg, n - 1);
			pct[n - 1] = '\0';
		}
		if (rp_select_parse_percent(n && arg[n - 1] == '%' && n < sizeof(pct) ? pct : arg,
					    &a->spec.ppm, &err) != 0)
			return cli_usage(
			    cmd,
			    "--sample: a percentage must be more than 0 and at most 100 "
			    "with at most 4 decimals (5, 0.5 or 5%%), not '%s'",
			    arg);
		return 0;
	}
	if (strcmp(name, "seed") == 0) {
		/* At most 2^53 - 1: the report carries it as a number every JSON reader keeps. */
		if (rp_parse_u64(arg, &a->spec.seed, NULL) != 0 || a->spec.seed >= 1ull << 53)
			return cli_usage(
			    cmd, "--seed must be a number from 0 to 9007199254740991, not '%s'",
			    arg);
		a->seed_set = true;
		return 0;
	}
	if (strcmp(name, "rolling") == 0) {
		a->has_rolling = true;
		if (rp_select_parse_fraction("--rolling", arg, true, &a->spec.run, &a->spec.runs,
					     &err) != 0)
			return cli_usage(cmd, "%s", err.msg);
		return 0;
	}
	if (strcmp(name, "shard") == 0) {
		a->has_shard = true;
		if (rp_select_parse_fraction("--shard", arg, false, &a->spec.shard, &a->spec.shards,
					     &err) != 0)
			return cli_usage(cmd, "%s", err.msg);
		return 0;
	}
	if (strcmp(name, "max-duration") == 0 || strcmp(name, "max-chunks") == 0) {
		uint64_t v;
		bool secs = name[4] == 'd';

		if (rp_parse_u64(arg, &v, NULL) != 0 || v == 0 || v > (secs ? 31536000u : 1u << 24))
			return cli_usage(cmd, "--%s must be a number from 1 to %u, not '%s'", name,
					 secs ? 31536000u : 1u << 24, arg);
		a->has_budget = true;
		if (secs)
			a->max_seconds = v;
		else
			a->max_chunks = v;
		return 0;
	}
	if (strcmp(name, "state") == 0) {
		a->state = arg;
		return 0;
	}
	return 1;
}

int cli_set_vsel(const struct cli_cmd *cmd, const struct cli_opt *o, void *field, const char *arg)
{
	return cli_vsel_arg(cmd, field, o->name, arg);
}

int cli_vsel_check(const struct cli_cmd *cmd, struct cli_vsel_args *a)
{
	struct rp_err err;

	if (a->has_sample + a->has_rolling + a->has_budget > 1 ||
	    (a->has_shard && (a->has_rolling || a->has_budget)))
		return cli_usage(cmd, "choose one of --sample, --rolling, --shard and "
				      "--max-duration/--max-chunks (only --sample and --shard go "
				      "together: a sample of the shard)");
	a->spec.mode = a->has_sample	? RP_SELECT_SAMPLE
		       : a->has_rolling ? RP_SELECT_ROLLING
		       : a->has_shard	? RP_SELECT_SHARD
		       : a->has_budget	? RP_SELECT_MAX_DURATION
					: RP_SELECT_FULL;
	if (a->seed_set && a->spec.mode != RP_SELECT_SAMPLE)
		return cli_usage(cmd, "--seed is for --sample");
	if (a->spec.mode == RP_SELECT_MAX_DURATION && !a->state)
		return cli_usage(cmd, "--max-duration and --max-chunks need --state FILE (it says "
				      "which chunks were verified least recently)");
	if (a->spec.mode == RP_SELECT_SAMPLE && !a->seed_set) {
		rp_err_init(&err);
		if (rp_random_bytes(&a->spec.seed, sizeof(a->spec.seed), &err) != 0)
			return cli_fail(cmd, &err);
		/* A seed a report can carry as a JSON integer without loss in any reader. */
		a->spec.seed &= (1ull << 53) - 1;
	}
	return 0;
}

bool cli_vsel_partial(const struct cli_vsel_args *a)
{
	return a->spec.mode != RP_SELECT_FULL;
}

enum rp_select_mode cli_vsel_mode(const struct cli_vsel_args *a)
{
	return a->spec.mode;
}

int cli_vsel_init(void *vsel, uint64_t virtual_size, uint64_t chunk_size, struct rp_err *err)
{
	struct cli_vsel *v = vsel;
	const struct cli_vsel_args *a = v->a;
	uint64_t n = 0;
	bool existed = false;
	int rc;

	/* max-duration makes several passes (remote: several runs): set up once. */
	if (v->ready) {
		if (virtual_size != v->virtual_size || chunk_size != v->chunk_size)
			return rp_err_set(err, RP_EIO, "the source changed size between passes");
		return 0;
	}
	v->virtual_size = virtual_size;
	v->chunk_size = chunk_size;
	v->chunk_count = rp_seal_chunks_for(virtual_size, chunk_size);
	if (v->chunk_count > RP_SELECT_MAX_CHUNKS)
		return rp_err_set(err, RP_EUSAGE, "%" PRIu64 " chunks is more than %u",
				  v->chunk_count, RP_SELECT_MAX_CHUNKS);
	v->all = a->spec.mode == RP_SELECT_FULL && !a->state;
	if (!v->all) {
		v->map = calloc(v->chunk_count ? (size_t)v->chunk_count : 1, 1);
		v->checked = calloc(v->chunk_count ? (size_t)v->chunk_count : 1, 1);
		if (!v->map || !v->checked)
			return rp_err_set(err, RP_EIO, "out of memory");
	}
	rc = rp_seal_new(virtual_size, chunk_size, &v->actual, err);
	if (rc)
		return rc;
	/* The chunks found that match the seal keep no copy of its digests (v->seal outlives
	 * v: cli_verify_run.c releases the selection first). */
	if (v->seal && !v->seal->base && v->seal->chunk_count == v->actual->chunk_count) {
		rc = rp_seal_borrow(v->actual, v->seal, err);
		if (rc)
			return rc;
	}
	v->mismatches = calloc(RP_SCAN_MAX_MISMATCHES, sizeof(*v->mismatches));
	if (!v->mismatches)
		return rp_err_set(err, RP_EIO, "out of memory");
	if (a->state) {
		rc = rp_select_state_load(a->state, virtual_size, chunk_size, &v->state, &existed,
					  err);
		if (rc)
			return rc;
		v->have_state = true;
	}
	if (v->all) {
		/* nothing to build: every chunk */
	} else if (a->spec.mode == RP_SELECT_MAX_DURATION) {
		v->tier = UINT64_MAX;
		rp_select_lrv_tier(&v->state, &v->tier, v->map, &n);
		if (a->max_seconds) {
			v->deadline = rp_now_s() + (double)a->max_seconds;
		}
	} else {
		rc = rp_select_build(&a->spec, v->seal, virtual_size, chunk_size, v->map, &n, err);
		if (rc)
			return rc;
	}
	v->ready = true;
	return 0;
}

bool cli_vsel_checked(const struct cli_vsel *v, uint64_t i)
{
	if (!v->ready || i >= v->chunk_count)
		return false;
	return v->all ? v->passes > 0 : v->checked[i] != 0;
}

int cli_vsel_pick(void *vsel, uint64_t index)
{
	struct cli_vsel *v = vsel;
	const struct cli_vsel_args *a = v->a;

	if (v->all) {
		v->taken++;
		return index < v->chunk_count ? RP_PICK_CHECK : RP_PICK_SKIP;
	}
	if (v->stopped)
		return RP_PICK_STOP;
	if (index >= v->chunk_count || !v->map[index] || v->checked[index])
		return RP_PICK_SKIP;
	if (a->max_chunks && v->taken >= a->max_chunks) {
		v->stopped = true;
		return RP_PICK_STOP;
	}
	if (a->max_seconds && rp_now_s() >= v->deadline) {
		v->stopped = true;
		return RP_PICK_STOP;
	}
	v->checked[index] = 1;
	v->taken++;
	return RP_PICK_CHECK;
}

static int mm_cmp(const void *x, const void *y)
{
	const struct rp_scan_mismatch *a = x, *b = y;

	return a->index < b->index ? -1 : a->index > b->index;
}

int cli_vsel_merge(struct cli_vsel *v, const struct rp_seal *found,
		   const struct rp_scan_mismatch *mm, size_t mm_count, struct rp_err *err)
{
	uint64_t i;
	size_t k, listed = v->mismatch_count < RP_SCAN_MAX_MISMATCHES ? v->mismatch_count
								      : RP_SCAN_MAX_MISMATCHES;

	if (!found || found->chunk_count != v->chunk_count)
		return rp_err_set(err, RP_EIO, "internal: a pass has no chunk states");
	/* Chunks checked in this pass are the map's that got handed out. */
	for (i = 0; i < v->chunk_count; i++) {
		struct rp_seal_chunk c;

		if (!v->all && (!v->map[i] || !v->checked[i]))
			continue;
		rp_seal_chunk_get(found, i, &c);
		if (rp_seal_chunk_set(v->actual, i, &c, err) != 0)
			return RP_EIO;
	}
	for (k = 0; mm && k < mm_count && k < RP_SCAN_MAX_MISMATCHES; k++)
		if (listed < RP_SCAN_MAX_MISMATCHES)
			v->mismatches[listed++] = mm[k];
	v->mismatch_count += mm_count;
	qsort(v->mismatches, listed, sizeof(*v->mismatches), mm_cmp);
	v->passes++;
	return 0;
}

bool cli_vsel_next_pass(struct cli_vsel *v)
{
	uint64_t n = 0, i;

	if (v->all || v->a->spec.mode != RP_SELECT_MAX_DURATION || v->stopped)
		return false;
	while (rp_select_lrv_tier(&v->state, &v->tier, v->map, &n)) {
		for (i = 0; i < v->chunk_count; i++)
			if (v->map[i] && !v->checked[i])
				return true;
	}
	return false;
}

int cli_vsel_save(struct cli_vsel *v, time_t started, struct rp_err *err)
{
	if (!v->have_state)
		return 0;
	rp_select_state_record(&v->state, v->checked, started,
			       rp_select_mode_name(v->a->spec.mode));
	return rp_select_state_write(v->a->state, &v->state, err);
}

struct rp_json *cli_vsel_coverage(const struct cli_vsel *v)
{
	const struct rp_select_spec *s = &v->a->spec;
	struct rp_json *o = rp_json_new_object();

	rp_json_set_str(o, "mode", rp_select_mode_name(s->mode));
	switch (s->mode) {
	case RP_SELECT_SAMPLE:
		if (s->ppm % 10000 == 0)
			rp_json_set_u64(o, "percent", s->ppm / 10000);
		else
			rp_json_set(o, "percent", rp_json_new_real((double)s->ppm / 10000.0));
		rp_json_set_u64(o, "seed", s->seed);
		if (s->shards) {
			rp_json_set_u64(o, "shard", s->shard);
			rp_json_set_u64(o, "shards", s->shards);
		}
		break;
	case RP_SELECT_ROLLING:
		rp_json_set_u64(o, "run", s->run);
		rp_json_set_u64(o, "runs", s->runs);
		break;
	case RP_SELECT_SHARD:
		rp_json_set_u64(o, "shard", s->shard);
		rp_json_set_u64(o, "shards", s->shards);
		break;
	case RP_SELECT_MAX_DURATION:
		if (v->a->max_seconds)
			rp_json_set_u64(o, "max_seconds", v->a->max_seconds);
		if (v->a->max_chunks)
			rp_json_set_u64(o, "max_chunks", v->a->max_chunks);
		rp_json_set_bool(o, "budget_exhausted", v->stopped);
		break;
	case RP_SELECT_FULL:
	default:
		break;
	}
	if (v->have_state)
		rp_json_set_u64(o, "state_run", v->state.last_run);
	return o;
}

void cli_vsel_release(struct cli_vsel *v)
{
	if (!v)
		return;
	free(v->map);
	free(v->checked);
	free(v->mismatches);
	rp_seal_free(v->actual);
	rp_select_state_release(&v->state);
	v->map = v->checked = NULL;
	v->mismatches = NULL;
	v->actual = NULL;
}
