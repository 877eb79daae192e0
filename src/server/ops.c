/* Operations: /healthz for load balancers, /metrics for Prometheus. Both
 * unauthenticated and free of object names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/pump.h"
#include "server/waker.h"
#include "util/buf.h"

const double vs__hist_bounds[VS__HIST_N] = {0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5, 1, 2.5, 5, 10, 30, 60};

void vs__observe_upload(vs_server *s, int64_t ms)
{
  int i;
  for(i = 0; i < VS__HIST_N && (double)ms / 1000.0 > vs__hist_bounds[i]; i++)
    ;
  atomic_fetch_add(&s->m.hist[i], 1);
  atomic_fetch_add(&s->m.hist_sum_ms, (unsigned long long)(ms < 0 ? 0 : ms));
}

static int method_ok(vs__req *r)
{
  return !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
}

enum MHD_Result vs__health(vs__req *r)
{
  vs_buf b = VS_BUF_INIT;
  int stopping = atomic_load(&r->srv->stopping);
  if(!method_ok(r))
    return vs__s3_error(r, VS__S3_METHOD, NULL);
  vs_buf_adds(&b, stopping ? "stopping\n" : "ok\n");
  /* 503 while draining, so a load balancer stops sending uploads here */
  return vs__send_buf(r, stopping ? MHD_HTTP_SERVICE_UNAVAILABLE
                                  : MHD_HTTP_OK, &b,
              "text/plain; charset=utf-8");
}

static void counter(vs_buf *b, const char *name, const char *help,
                    const char *type)
{
  vs_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void connections(vs_buf *b, vs__conns *c)
{
  counter(b, "vsink_connections_open", "Connections open now.", "gauge");
  vs_buf_addf(b, "vsink_connections_open %u\n", vs__conns_open(c));
  counter(b, "vsink_connections_refused_total",
          "Connections closed at accept, over a limit.", "counter");
  vs_buf_addf(b, "vsink_connections_refused_total{limit=\"total\"} %llu\n"
              "vsink_connections_refused_total{limit=\"per_ip\"} %llu\n",
              atomic_load(&c->refused_total) - atomic_load(&c->refused_per_ip),
              atomic_load(&c->refused_per_ip));
  counter(b, "vsink_connections_closed_slow_total",
          "Connections closed for a late request head or a slow body.",
          "counter");
  vs_buf_addf(b, "vsink_connections_closed_slow_total{reason=\"headers\"} "
              "%llu\nvsink_connections_closed_slow_total{reason=\"body\"} "
              "%llu\n", atomic_load(&c->header_timeouts),
              atomic_load(&c->slow_bodies));
}

static void shipping(vs_buf *b, vs_ship *ship)
{
  vs_ship_stats st;
  vs_ship_stats_get(ship, &st);
  counter(b, "vsink_manifest_segments_shipped_total",
          "Closed manifest segments put to the cluster bucket.", "counter");
  vs_buf_addf(b, "vsink_manifest_segments_shipped_total %llu\n",
              (unsigned long long)st.shipped);
  counter(b, "vsink_manifest_ship_failures_total", "Segments the cluster "
          "holds with other bytes (kept locally), and failed attempts "
          "(retried).", "counter");
  vs_buf_addf(b, "vsink_manifest_ship_failures_total{reason=\"conflict\"} "
              "%llu\nvsink_manifest_ship_failures_total{reason=\"error\"} "
              "%llu\n", (unsigned long long)st.conflicts,
              (unsigned long long)st.errors);
  counter(b, "vsink_manifest_segments_pending", "Closed segments not "
          "shipped yet (conflicts apart).", "gauge");
  vs_buf_addf(b, "vsink_manifest_segments_pending %llu\n",
              (unsigned long long)st.pending);
  counter(b, "vsink_manifest_segments_pruned_total", "Shipped segments "
          "removed from the local folder (--manifest-keep-shipped).",
          "counter");
  vs_buf_addf(b, "vsink_manifest_segments_pruned_total %llu\n",
              (unsigned long long)st.pruned);
}

static void histogram(vs_buf *b, vs__metrics *m)
{
  unsigned long long cum = 0;
  int i;
  counter(b, "vsink_upload_duration_seconds",
          "Time from request start to the 200 of successful uploads.",
          "histogram");
  for(i = 0; i < VS__HIST_N; i++) {
    cum += atomic_load(&m->hist[i]);
    vs_buf_addf(b, "vsink_upload_duration_seconds_bucket{le=\"%g\"} %llu\n",
                vs__hist_bounds[i], cum);
  }
  cum += atomic_load(&m->hist[VS__HIST_N]);
  vs_buf_addf(b, "vsink_upload_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
              "vsink_upload_duration_seconds_sum %.3f\n"
              "vsink_upload_duration_seconds_count %llu\n", cum,
              (double)atomic_load(&m->hist_sum_ms) / 1000.0, cum);
}

enum MHD_Result vs__metrics_page(vs__req *r)
{
  vs__metrics *m = &r->srv->m;
  vs_buf b = VS_BUF_INIT;
  if(!method_ok(r))
    return vs__s3_error(r, VS__S3_METHOD, NULL);
  counter(&b, "vsink_requests_total", "HTTP requests received.", "counter");
  vs_buf_addf(&b, "vsink_requests_total %llu\n", atomic_load(&m->requests));
  counter(&b, "vsink_uploads_total", "PUT requests by outcome.", "counter");
  vs_buf_addf(&b, "vsink_uploads_total{status=\"stored\"} %llu\n"
              "vsink_uploads_total{status=\"rejected\"} %llu\n"
              "vsink_uploads_total{status=\"failed\"} %llu\n"
              "vsink_uploads_total{status=\"aborted\"} %llu\n",
              atomic_load(&m->uploads_ok), atomic_load(&m->uploads_rejected),
              atomic_load(&m->uploads_failed),
              atomic_load(&m->uploads_aborted));
  counter(&b, "vsink_bytes_in_total", "Object bytes received.", "counter");
  vs_buf_addf(&b, "vsink_bytes_in_total %llu\n", atomic_load(&m->bytes_in));
  counter(&b, "vsink_uploads_in_flight", "Uploads being received now.",
          "gauge");
  vs_buf_addf(&b, "vsink_uploads_in_flight %u\n",
              atomic_load(&m->uploads_in_flight));
  counter(&b, "vsink_uploads_waiting_store", "Uploads whose connection is "
          "suspended until the store takes more of their body.", "gauge");
  vs_buf_addf(&b, "vsink_uploads_waiting_store %u\n",
              vs__pump_parked(r->srv->pump) +
              vs__waker_parked(r->srv->waker, VS__WAKE_BODY));
  counter(&b, "vsink_pipe_waits_total", "Times a fast upload stopped "
          "receiving for a full pipe, by the stage it waited on (the last "
          "to give a buffer back): the store (disk or cluster) or a hash "
          "(CPU).", "counter");
  vs_buf_addf(&b, "vsink_pipe_waits_total{lane=\"store\"} %llu\n"
              "vsink_pipe_waits_total{lane=\"sha256\"} %llu\n"
              "vsink_pipe_waits_total{lane=\"md5\"} %llu\n",
              vs__pump_waits(r->srv->pump, VS__LANE_STORE),
              vs__pump_waits(r->srv->pump, VS__LANE_SHA256),
              vs__pump_waits(r->srv->pump, VS__LANE_MD5));
  counter(&b, "vsink_downloads_waiting_store", "Answers whose connection "
          "is suspended until the store sends more of the object.", "gauge");
  vs_buf_addf(&b, "vsink_downloads_waiting_store %u\n",
              vs__waker_parked(r->srv->waker, VS__WAKE_ANSWER));
  counter(&b, "vsink_requests_in_flight", "Requests being served now.",
          "gauge");
  vs_buf_addf(&b, "vsink_requests_in_flight %u\n", atomic_load(&m->in_flight));
  counter(&b, "vsink_hooks_total", "Result callbacks by outcome.", "counter");
  vs_buf_addf(&b, "vsink_hooks_total{status=\"recorded\"} %llu\n"
              "vsink_hooks_total{status=\"duplicate\"} %llu\n"
              "vsink_hooks_total{status=\"rejected\"} %llu\n",
              atomic_load(&m->hooks_ok), atomic_load(&m->hooks_duplicate),
              atomic_load(&m->hooks_rejected));
  counter(&b, "vsink_multipart_uploads_total", "Multipart uploads by "
          "event.", "counter");
  vs_buf_addf(&b, "vsink_multipart_uploads_total{event=\"created\"} %llu\n"
              "vsink_multipart_uploads_total{event=\"completed\"} %llu\n"
              "vsink_multipart_uploads_total{event=\"aborted\"} %llu\n"
              "vsink_multipart_uploads_total{event=\"expired\"} %llu\n",
              atomic_load(&m->mpu_created), atomic_load(&m->mpu_completed),
              atomic_load(&m->mpu_aborted), atomic_load(&m->mpu_expired));
  counter(&b, "vsink_multipart_parts_total", "Parts stored (UploadPart, "
          "UploadPartCopy).", "counter");
  vs_buf_addf(&b, "vsink_multipart_parts_total %llu\n",
              atomic_load(&m->parts_ok));
  connections(&b, &r->srv->conns);
  if(r->srv->cfg.ship)
    shipping(&b, r->srv->cfg.ship);
  histogram(&b, m);
  return vs__send_buf(r, MHD_HTTP_OK, &b,
                      "text/plain; version=0.0.4; charset=utf-8");
}
