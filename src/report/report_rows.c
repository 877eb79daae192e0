/* The rows (vs_report_each): one row per output of the joined records, its
 * status decided from what arrived (submission, result, stored object,
 * verification, delete) and the filters applied; also the status names.
 * It is apart from the join (report_join.c) because it only reads what the
 * join built and can run any number of times over it. */
#include <string.h>

#include "report_int.h"

/* ---- rows --------------------------------------------------------------- */
static const char *const status_names[VS_REPORT_NSTATUS] = {
  "complete", "waiting", "missing-upload", "missing-result",
  "unexpected-upload", "failed", "checksum-mismatch", "missing-object",
  "deleted", "purged"};

const char *vs_report_status_name(int status)
{
  return status >= 0 && status < VS_REPORT_NSTATUS ? status_names[status]
                                                    : NULL;
}

int vs_report_status_parse(const char *name, int *status)
{
  int i;
  for(i = 0; i < VS_REPORT_NSTATUS; i++)
    if(!strcmp(name, status_names[i])) {
      *status = i;
      return 0;
    }
  return -1;
}

int vs_report_status_is_problem(int status)
{
  return status != VS_REPORT_COMPLETE && status != VS_REPORT_WAITING &&
         status != VS_REPORT_DELETED && status != VS_REPORT_PURGED;
}

void vs_report_filter_init(vs_report_filter *f)
{
  f->since_ms = INT64_MIN;
  f->until_ms = INT64_MAX;
  f->status_mask = 0;
}

static void uuid_text(const key16 *k, char out[37])
{
  static const char hx[] = "0123456789abcdef";
  int i, o = 0;
  for(i = 0; i < 16; i++) {
    if(i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hx[k->b[i] >> 4];
    out[o++] = hx[k->b[i] & 15];
  }
  out[o] = 0;
}

static void fill_submission(const vs_report *r, vs_report_row *row,
                            uint32_t si, int k)
{
  const rsub *s = vs__cv_at(&r->core[K_SUB], si);
  row->submitted_ms = s->t;
  row->model = s->model;
  row->size = s->size;
  row->has_duration = s->has_dur;
  row->duration = s->dur;
  row->number_results = s->nres;
  if(s->has_est && k < s->nres) {
    /* split to the last unit; the remainder goes to the first outputs */
    vs_dec per = s->est / s->nres, rem = s->est - per * s->nres;
    row->has_estimate = 1;
    row->estimate = per + (k < (rem < 0 ? -rem : rem) ? (rem < 0 ? -1 : 1)
                                                      : 0);
  }
  if(r->detail) {
    const rsubd *d = vs__cv_at(&r->det[K_SUB], si);
    row->prompt = d->prompt;
    row->resolution = d->res;
    row->format = d->fmt;
    row->width = d->w;
    row->height = d->h;
    row->quality = d->q;
    row->has_seed_requested = d->has_seed;
    row->seed_requested = d->seed;
  }
}

static void fill_result(const vs_report *r, vs_report_row *row, uint32_t ri)
{
  const rres *x = vs__res_at(r, ri);
  row->has_cost = x->has_cost;
  row->cost = x->cost;
  if(r->detail) {
    const rresd *d = vs__cv_at(&r->det[K_RES], ri);
    uuid_text(&x->vid, row->video_uuid);
    row->has_seed = d->has_seed;
    row->seed = d->seed;
  }
}

/* What a delete did to the row's object (the precedence: report.h). */
static void fill_fate(const vs_report *r, vs_report_row *row, uint32_t oi)
{
  const vs__rdel *d = vs__dels_fate(&r->dels, oi);
  if(!d)
    return;
  if(d->what == VS__DEL_MARKER) {
    row->deleted_ms = d->t;
    row->delete_marker = d->ver;
  }
  else
    row->purged_ms = d->t;
  if(row->status == VS_REPORT_UNEXPECTED_UPLOAD)
    return;
  if(d->what != VS__DEL_MARKER)
    row->status = VS_REPORT_PURGED;
  else if(row->status != VS_REPORT_CHECKSUM_MISMATCH &&
          row->status != VS_REPORT_MISSING_OBJECT)
    row->status = VS_REPORT_DELETED;
}

static void fill_object(const vs_report *r, vs_report_row *row, uint32_t oi)
{
  const rsto *o = vs__sto_at(r, oi);
  row->has_object = 1;
  row->stored_ms = o->t;
  row->bytes = o->bytes;
  if(r->detail) {
    static const char hx[] = "0123456789abcdef";
    const rstod *d = vs__cv_at(&r->det[K_STO], oi);
    int i;
    row->bucket = d->bucket;
    row->key = d->key;
    row->version_id = d->ver;
    for(i = 0; d->has_sha && i < 32; i++) {
      row->sha256[2 * i] = hx[d->sha[i] >> 4];
      row->sha256[2 * i + 1] = hx[d->sha[i] & 15];
    }
  }
  if(r->sver && r->sver[oi] != NONE) {
    const rver *v = vs__cv_at(&r->core[K_VER], r->sver[oi]);
    row->verified_ms = v->t;
    if(!v->ok) {
      row->verify_problem = v->problem ? v->problem : "not ok";
      if(row->status != VS_REPORT_UNEXPECTED_UPLOAD)
        row->status = v->problem && !strcmp(v->problem, "missing-object")
                        ? VS_REPORT_MISSING_OBJECT
                        : VS_REPORT_CHECKSUM_MISMATCH;
    }
  }
  fill_fate(r, row, oi);
}

static void row_init(vs_report_row *row, int64_t t)
{
  memset(row, 0, sizeof(*row));
  row->time_ms = t;
  row->submitted_ms = row->stored_ms = row->bytes = row->verified_ms = -1;
  row->deleted_ms = row->purged_ms = -1;
  row->quality = -1;
}

static int wait_or(const vs_report *r, int64_t since, int late)
{
  return r->now_ms - since < r->grace_ms ? VS_REPORT_WAITING : late;
}

static int emit(const vs_report_row *row, const vs_report_filter *f,
                vs_report_row_fn fn, void *ctx)
{
  if(f && f->status_mask && !(f->status_mask & (1u << row->status)))
    return 0;
  return fn(ctx, row);
}

/* The k-th output of task t. With numberResults > 1 every result is PUT to
 * the same key (the API gives the upload no videoUUID, no seed, nothing
 * naming which result it is), so arrival order is the only evidence that
 * ties a stored version to a result: the k-th result is paired with the k-th
 * stored version. At worst two outputs of one task swap videoUUID and seed;
 * both come from one request with the same parameters and cost, so
 * statuses, costs and totals cannot be wrong. */
static void task_row(const vs_report *r, uint32_t t, int k, vs_report_row *row)
{
  uint32_t si = r->tsub[t];
  uint32_t ri = (uint32_t)k < r->rlen[t] ? r->rord[r->rstart[t] + k] : NONE;
  uint32_t oi = (uint32_t)k < r->slen[t] ? r->sord[r->sstart[t] + k] : NONE;
  uint32_t nf = r->fstart[t + 1] - r->fstart[t];
  uuid_text(vs__cv_at(&r->keys, t), row->task_uuid);
  if(si != NONE)
    fill_submission(r, row, si, k);
  if(ri != NONE)
    fill_result(r, row, ri);
  if(oi != NONE && si == NONE)
    row->status = VS_REPORT_UNEXPECTED_UPLOAD;
  else if(ri != NONE && oi != NONE)
    row->status = VS_REPORT_COMPLETE;
  else if(ri != NONE)
    row->status = wait_or(r, vs__res_at(r, ri)->t, VS_REPORT_MISSING_UPLOAD);
  else if(oi != NONE)
    row->status = wait_or(r, vs__sto_at(r, oi)->t, VS_REPORT_MISSING_RESULT);
  else if(nf || si == NONE)
    row->status = VS_REPORT_FAILED;
  else
    row->status = wait_or(r, row->submitted_ms, VS_REPORT_MISSING_UPLOAD);
  if(oi != NONE)
    fill_object(r, row, oi);
  if(row->status == VS_REPORT_FAILED && nf) {
    const rfail *fl = vs__cv_at(&r->core[K_FAIL], r->ford[r->fstart[t]]);
    row->error_code = fl->code;
    row->error_message = fl->message;
  }
}

static int unit_rows(const vs_report *r, const struct unit *u,
                     const vs_report_filter *f, vs_report_row_fn fn,
                     void *ctx)
{
  vs_report_row row;
  uint32_t t = u->id, n, k;
  int rc;
  if(t >= r->keys.n) {
    row_init(&row, u->t);
    row.status = VS_REPORT_UNEXPECTED_UPLOAD;
    fill_object(r, &row, r->orph[t - r->keys.n]);
    return emit(&row, f, fn, ctx);
  }
  n = r->tsub[t] != NONE
        ? ((const rsub *)vs__cv_at(&r->core[K_SUB], r->tsub[t]))->nres
        : 0;
  n = r->rlen[t] > n ? r->rlen[t] : n;
  n = r->slen[t] > n ? r->slen[t] : n;
  if(!n)
    n = 1; /* a failure alone */
  for(k = 0; k < n; k++) {
    row_init(&row, u->t);
    task_row(r, t, (int)k, &row);
    if((rc = emit(&row, f, fn, ctx)))
      return rc;
  }
  return 0;
}

int vs_report_each(const vs_report *r, const vs_report_filter *f,
                   vs_report_row_fn fn, void *ctx)
{
  size_t i;
  int rc;
  if(!r->finished)
    return VS_ERR_INVALID;
  for(i = 0; i < r->nunits; i++) {
    const struct unit *u = &r->units[i];
    if(f && (u->t < f->since_ms || u->t >= f->until_ms))
      continue;
    if((rc = unit_rows(r, u, f, fn, ctx)))
      return rc;
  }
  return 0;
}
