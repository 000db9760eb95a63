/*
 * The C reference for scripts/bench: the same work as bench/swift (AMQPBench), written straight
 * against librabbitmq, the way its own examples do it.
 *
 *   amqp_bench_ref publish HOST PORT QUEUE COUNT SIZE     publish COUNT persistent SIZE-byte messages
 *   amqp_bench_ref consume HOST PORT QUEUE COUNT PREFETCH consume COUNT messages, ack each
 *   amqp_bench_ref consume-reply HOST PORT QUEUE COUNT PREFETCH
 *        the same, but first answer each message that has a reply_to, as Celery's rpc:// result
 *        backend expects (a small JSON result, correlation_id = the task's, transient): the least
 *        any worker must do per task when its clients set reply_to, and so the ceiling for one
 *        on this broker
 *
 * Prints one line: "<mode> <count> <seconds> <msgs_per_s> rss_kib_start=<n> rss_kib_end=<n>".
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

static void die_on_reply(amqp_rpc_reply_t r, const char *what) {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
    fprintf(stderr, "amqp_bench_ref: %s failed (reply type %d, library error %d)\n", what, r.reply_type,
            r.library_error);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Answers a task like Celery's rpc:// backend: {"task_id", "status", "result", ...} on reply_to. */
static void reply(amqp_connection_state_t conn, const amqp_envelope_t *envelope) {
    const amqp_basic_properties_t *in = &envelope->message.properties;
    if (!(in->_flags & AMQP_BASIC_REPLY_TO_FLAG)) return;
    char body[512];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char date[40];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    amqp_bytes_t id = in->_flags & AMQP_BASIC_CORRELATION_ID_FLAG ? in->correlation_id : amqp_empty_bytes;
    int n = snprintf(body, sizeof body,
                     "{\"task_id\": \"%.*s\", \"status\": \"SUCCESS\", \"result\": null, \"traceback\": null, "
                     "\"children\": [], \"date_done\": \"%s.%06ldZ\"}",
                     (int)id.len, (const char *)id.bytes, date, (long)tv.tv_usec);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_CORRELATION_ID_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 1;
    props.correlation_id = id;
    amqp_bytes_t message = {(size_t)n, body};
    if (amqp_basic_publish(conn, 1, amqp_empty_bytes, in->reply_to, 0, 0, &props, message) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_bench_ref: reply failed\n");
        exit(1);
    }
}

static long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * 4;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s publish|consume|consume-reply HOST PORT QUEUE COUNT SIZE|PREFETCH\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *host = argv[2], *queue = argv[4];
    int port = atoi(argv[3]);
    long count = atol(argv[5]);
    int param = atoi(argv[6]);

    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (!socket || amqp_socket_open(socket, host, port) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_bench_ref: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    die_on_reply(amqp_login(conn, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(conn, 1);
    die_on_reply(amqp_get_rpc_reply(conn), "channel.open");
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    die_on_reply(amqp_get_rpc_reply(conn), "queue.declare");

    long rss_start = rss_kib();
    double start = now();
    if (strcmp(mode, "publish") == 0) {
        char *body = malloc(param);
        memset(body, 'x', param);
        amqp_basic_properties_t props;
        props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
        props.delivery_mode = 2;
        props.content_type = amqp_cstring_bytes("application/octet-stream");
        amqp_bytes_t message = {(size_t)param, body};
        for (long i = 0; i < count; i++) {
            int rc = amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props, message);
            if (rc != AMQP_STATUS_OK) {
                fprintf(stderr, "amqp_bench_ref: publish failed: %s\n", amqp_error_string2(rc));
                return 1;
            }
        }
        /* a round trip, so that every publish has reached the broker before the clock stops */
        amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
        die_on_reply(amqp_get_rpc_reply(conn), "queue.declare passive");
        free(body);
    } else {
        int answer = strcmp(mode, "consume-reply") == 0;
        amqp_basic_qos(conn, 1, 0, (uint16_t)param, 0);
        die_on_reply(amqp_get_rpc_reply(conn), "basic.qos");
        amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        die_on_reply(amqp_get_rpc_reply(conn), "basic.consume");
        for (long i = 0; i < count; i++) {
            amqp_envelope_t envelope;
            amqp_maybe_release_buffers(conn);
            amqp_rpc_reply_t r = amqp_consume_message(conn, &envelope, NULL, 0);
            die_on_reply(r, "consume");
            if (answer) reply(conn, &envelope);
            if (amqp_basic_ack(conn, 1, envelope.delivery_tag, 0) != AMQP_STATUS_OK) {
                fprintf(stderr, "amqp_bench_ref: ack failed\n");
                return 1;
            }
            amqp_destroy_envelope(&envelope);
        }
    }
    double seconds = now() - start;
    printf("%s %ld %.3f %.0f rss_kib_start=%ld rss_kib_end=%ld\n", mode, count, seconds, count / seconds, rss_start,
           rss_kib());
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    return 0;
}
