/*  test_web_metrics — the bridge's Prometheus exposition: names, labels, escaping, histogram
 *  buckets (cumulative, +Inf equals the count), broker gauges, the event journal's figures, and
 *  bounded series.
 *
 *  Scrapers reject a whole page for one malformed line, so the text format is checked line by
 *  line rather than by eye.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_metrics.h"

static void
test_counters_and_histogram (void **state)
{
    (void) state;
    td_metrics_t *m = td_metrics_new ();
    assert_non_null (m);
    td_metrics_http (m, "/health", "GET", 200, 0.003);
    td_metrics_http (m, "/health", "GET", 200, 0.2);
    td_metrics_http (m, "/health", "GET", 503, 20.0);
    td_metrics_ws (m, 1);
    td_metrics_ws (m, 1);
    td_metrics_ws (m, -1);
    td_metrics_restart (m, "grader");
    td_metrics_restart (m, "grader");
    char *t = td_metrics_format (m, NULL);
    assert_non_null (t);
    assert_non_null (strstr (t, "# TYPE tutord_http_requests_total counter\n"));
    assert_non_null (strstr (t, "tutord_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 2\n"));
    assert_non_null (strstr (t, "tutord_http_requests_total{route=\"/health\",method=\"GET\",status=\"503\"} 1\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.001\"} 0\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.005\"} 1\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.25\"} 2\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_bucket{route=\"/health\",le=\"10\"} 2\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 3\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_count{route=\"/health\"} 3\n"));
    assert_non_null (strstr (t, "tutord_http_request_duration_seconds_sum{route=\"/health\"} 20.203000\n"));
    assert_non_null (strstr (t, "tutord_ws_connections 1\n"));
    assert_non_null (strstr (t, "tutord_actor_restarts_total{actor=\"grader\"} 2\n"));
    assert_non_null (strstr (t, "tutord_broker_up 0\n"));
    //  Every line is a comment or "name{labels} value" / "name value"
    char *copy = strdup (t), *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (line [0] == '#')
            continue;
        assert_true (strncmp (line, "tutord_", 7) == 0);
        char *space = strrchr (line, ' ');
        assert_non_null (space);
        char *end = NULL;
        strtod (space + 1, &end);
        assert_true (end && *end == 0);
    }
    free (copy);
    free (t);
    td_metrics_destroy (&m);
    assert_null (m);
    td_metrics_destroy (&m);        //  idempotent
}

static void
test_broker_gauges (void **state)
{
    (void) state;
    td_metrics_t *m = td_metrics_new ();
    json_t *status = json_pack ("{s:{s:{s:i,s:i,s:i},s:{s:i,s:i,s:i}}}",
                                "services", "grade", "workers", 2, "queued", 5, "inflight", 1,
                                "srs", "workers", 1, "queued", 0, "inflight", 0);
    char *t = td_metrics_format (m, status);
    assert_non_null (strstr (t, "tutord_broker_up 1\n"));
    assert_non_null (strstr (t, "tutord_broker_queue_depth{service=\"grade\"} 5\n"));
    assert_non_null (strstr (t, "tutord_broker_workers{service=\"grade\"} 2\n"));
    assert_non_null (strstr (t, "tutord_broker_workers{service=\"srs\"} 1\n"));
    assert_non_null (strstr (t, "tutord_broker_inflight{service=\"grade\"} 1\n"));
    free (t);
    json_decref (status);
    //  A status of the wrong shape is ignored, not trusted
    status = json_pack ("{s:[i]}", "services", 1);
    t = td_metrics_format (m, status);
    assert_non_null (t);
    assert_null (strstr (t, "tutord_broker_workers{"));
    free (t);
    json_decref (status);
    td_metrics_destroy (&m);
}

static void
test_escape_and_bounds (void **state)
{
    (void) state;
    char buf [32];
    assert_string_equal (td_metrics_escape ("a\"b\\c\nd", buf, sizeof buf), "a\\\"b\\\\c\\nd");
    char tiny [4];
    assert_string_equal (td_metrics_escape ("\"\"\"", tiny, sizeof tiny), "\\\"");
    td_metrics_t *m = td_metrics_new ();
    //  Far more label sets than the bound: they fold into route="other"
    for (int i = 0; i < TD_METRICS_MAX_SERIES + 100; i++) {
        char route [32];
        snprintf (route, sizeof route, "/r%d", i);
        td_metrics_http (m, route, "GET", 200, 0.01);
    }
    td_metrics_http (m, "/weird\"route\n", "GET", 200, -1);   //  negative time clamps to 0
    char *t = td_metrics_format (m, NULL);
    assert_non_null (t);
    assert_non_null (strstr (t, "route=\"other\",method=\"OTHER\",status=\"0\"} 102\n"));
    free (t);
    td_metrics_destroy (&m);
}

//  Whether the exposition of m with status holds needle.
static bool
s_shows (td_metrics_t *m, const json_t *status, const char *needle)
{
    char *t = td_metrics_format (m, status);
    assert_non_null (t);
    bool found = strstr (t, needle) != NULL;
    free (t);
    return found;
}

//  The broker's process journals: its four figures; without a journal only up 0; a broker that
//  did not answer says nothing of it; a figure that is not an integer is left out.
static void
test_event_journal (void **state)
{
    (void) state;
    td_metrics_t *m = td_metrics_new ();
    assert_non_null (m);
    json_t *status = json_pack ("{s:{}, s:{s:I, s:I, s:I, s:I}}", "services", "journal",
                                "written", (json_int_t) 12345678901LL, "dropped", (json_int_t) 7,
                                "queued", (json_int_t) 3, "errors", (json_int_t) 2);
    assert_true (s_shows (m, status, "\ntutord_events_journal_up 1\n"));
    assert_true (s_shows (m, status, "# TYPE tutord_events_journal_written_total counter\n"
                                     "tutord_events_journal_written_total 12345678901\n"));
    assert_true (s_shows (m, status, "# TYPE tutord_events_journal_dropped_total counter\n"
                                     "tutord_events_journal_dropped_total 7\n"));
    assert_true (s_shows (m, status, "# TYPE tutord_events_journal_write_errors_total counter\n"
                                     "tutord_events_journal_write_errors_total 2\n"));
    assert_true (s_shows (m, status, "# TYPE tutord_events_journal_queued gauge\n"
                                     "tutord_events_journal_queued 3\n"));
    json_object_set_new (json_object_get (status, "journal"), "queued", json_string ("3; rm"));
    assert_false (s_shows (m, status, "tutord_events_journal_queued"));
    assert_true (s_shows (m, status, "tutord_events_journal_dropped_total 7\n"));
    json_object_del (status, "journal");
    assert_true (s_shows (m, status, "\ntutord_events_journal_up 0\n"));
    assert_false (s_shows (m, status, "tutord_events_journal_written_total"));
    assert_false (s_shows (m, NULL, "tutord_events_journal"));
    json_decref (status);
    td_metrics_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_counters_and_histogram),
        cmocka_unit_test (test_broker_gauges),
        cmocka_unit_test (test_escape_and_bounds),
        cmocka_unit_test (test_event_journal),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
