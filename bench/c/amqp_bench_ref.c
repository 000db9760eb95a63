/*
 * The C reference for scripts/bench: the same work as bench/swift (AMQPBench), written straight
 * against librabbitmq, the way its own examples do it.
 *
 *   amqp_bench_ref publish HOST PORT QUEUE COUNT SIZE     publish COUNT persistent SIZE-byte messages
 *   amqp_bench_ref consume HOST PORT QUEUE COUNT PREFETCH consume COUNT messages, ack each
 *
 * Prints one line: "<mode> <count> <seconds> <msgs_per_s> rss_kib_start=<n> rss_kib_end=<n>".
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        fprintf(stderr, "usage: %s publish|consume HOST PORT QUEUE COUNT SIZE|PREFETCH\n", argv[0]);
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
        amqp_basic_qos(conn, 1, 0, (uint16_t)param, 0);
        die_on_reply(amqp_get_rpc_reply(conn), "basic.qos");
        amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        die_on_reply(amqp_get_rpc_reply(conn), "basic.consume");
        for (long i = 0; i < count; i++) {
            amqp_envelope_t envelope;
            amqp_maybe_release_buffers(conn);
            amqp_rpc_reply_t r = amqp_consume_message(conn, &envelope, NULL, 0);
            die_on_reply(r, "consume");
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
