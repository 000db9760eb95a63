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
 *   amqp_bench_ref publish-confirm HOST PORT QUEUE COUNT WINDOW
 *        publish COUNT persistent 100-byte messages with publisher confirms (confirm.select),
 *        streamed: up to WINDOW unconfirmed at once, topped up as basic.ack frames come back;
 *        the clock stops when the broker has confirmed every one (the reference for
 *        WarrenClient's confirmed sends; AMQP_BENCH_SIZE=N for N-byte bodies)
 *   amqp_bench_ref publish-confirm-task HOST PORT QUEUE COUNT WINDOW
 *        the same with the messages WarrenClient sends: Celery v2 tasks (`demo.noop`, the
 *        same properties, the same 20 headers, a fresh 36-character id in id, root_id,
 *        correlation_id and message_id, the same JSON body): the same bytes for the broker
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

/* What WarrenClient puts on a Celery v2 task, in its order (see TaskMessage+Encoding.swift). */
enum { TASK_HEADERS = 20 };
struct task_message {
    char id[37];
    amqp_table_entry_t headers[TASK_HEADERS];
    amqp_field_value_t timelimit[2];
    amqp_basic_properties_t props;
};

static amqp_table_entry_t utf8_entry(const char *key, amqp_bytes_t value) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = value;
    return e;
}

static amqp_table_entry_t kind_entry(const char *key, uint8_t kind) {
    amqp_table_entry_t e;
    memset(&e, 0, sizeof e);
    e.key = amqp_cstring_bytes(key);
    e.value.kind = kind;
    return e;
}

static void task_message_init(struct task_message *m, const char *name) {
    memset(m, 0, sizeof *m);
    strcpy(m->id, "00000000-0000-4000-8000-000000000000");
    amqp_bytes_t id = {36, m->id};
    amqp_table_entry_t *h = m->headers;
    int n = 0;
    h[n++] = utf8_entry("lang", amqp_cstring_bytes("py"));
    h[n++] = utf8_entry("task", amqp_cstring_bytes(name));
    h[n++] = utf8_entry("id", id);
    h[n++] = kind_entry("shadow", AMQP_FIELD_KIND_VOID);
    h[n++] = kind_entry("eta", AMQP_FIELD_KIND_VOID);
    h[n++] = kind_entry("expires", AMQP_FIELD_KIND_VOID);
    h[n++] = kind_entry("group", AMQP_FIELD_KIND_VOID);
    h[n++] = kind_entry("group_index", AMQP_FIELD_KIND_VOID);
    h[n] = kind_entry("retries", AMQP_FIELD_KIND_I64);
    h[n++].value.value.i64 = 0;
    m->timelimit[0].kind = AMQP_FIELD_KIND_VOID;
    m->timelimit[1].kind = AMQP_FIELD_KIND_VOID;
    h[n] = kind_entry("timelimit", AMQP_FIELD_KIND_ARRAY);
    h[n].value.value.array.num_entries = 2;
    h[n++].value.value.array.entries = m->timelimit;
    h[n++] = utf8_entry("root_id", id);
    h[n++] = kind_entry("parent_id", AMQP_FIELD_KIND_VOID);
    h[n++] = utf8_entry("argsrepr", amqp_cstring_bytes("[]"));
    h[n++] = utf8_entry("kwargsrepr", amqp_cstring_bytes("{}"));
    h[n++] = utf8_entry("origin", amqp_cstring_bytes("gen00000@vm"));
    h[n] = kind_entry("ignore_result", AMQP_FIELD_KIND_BOOLEAN);
    h[n++].value.value.boolean = 1;
    h[n] = kind_entry("replaced_task_nesting", AMQP_FIELD_KIND_I64);
    h[n++].value.value.i64 = 0;
    h[n++] = kind_entry("stamped_headers", AMQP_FIELD_KIND_VOID);
    h[n] = kind_entry("stamps", AMQP_FIELD_KIND_TABLE);
    h[n].value.value.table.num_entries = 0;
    h[n++].value.value.table.entries = NULL;
    h[n] = kind_entry("timestamp_in_ms", AMQP_FIELD_KIND_I64);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    h[n++].value.value.i64 = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    amqp_basic_properties_t *p = &m->props;
    p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
                AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    p->content_type = amqp_cstring_bytes("application/json");
    p->content_encoding = amqp_cstring_bytes("utf-8");
    p->headers.num_entries = n;
    p->headers.entries = h;
    p->delivery_mode = 2;
    p->priority = 0;
    p->correlation_id = id;
    p->message_id = id;
    p->timestamp = (uint64_t)tv.tv_sec;
}

/* A fresh id for the next message (in place: every header and property points at it). */
static void task_message_next(struct task_message *m, long i) {
    char tail[17];
    snprintf(tail, sizeof tail, "%012lx", (unsigned long)i & 0xffffffffffffUL);
    memcpy(m->id + 24, tail, 12);
}

/*
 * Publishes count persistent messages to queue with up to window unconfirmed; returns when all
 * are acked. With task set, Celery v2 task messages as WarrenClient sends them; else size-byte bodies.
 */
static void publish_confirmed(amqp_connection_state_t conn, const char *queue, long count, long window, size_t size,
                              int task) {
    amqp_confirm_select(conn, 1);
    die_on_reply(amqp_get_rpc_reply(conn), "confirm.select");
    static const char task_body[] = "[[],{},{\"callbacks\":null,\"errbacks\":null,\"chain\":null,\"chord\":null}]";
    struct task_message tm;
    task_message_init(&tm, queue);
    char *body = malloc(size);
    memset(body, 'x', size);
    amqp_basic_properties_t raw;
    raw._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    raw.delivery_mode = 2;
    raw.content_type = amqp_cstring_bytes("application/octet-stream");
    amqp_basic_properties_t *props = task ? &tm.props : &raw;
    amqp_bytes_t message = task ? (amqp_bytes_t){sizeof task_body - 1, (void *)task_body} : (amqp_bytes_t){size, body};
    long published = 0, confirmed = 0;
    while (confirmed < count) {
        while (published < count && published - confirmed < window) {
            if (task) task_message_next(&tm, published);
            int rc = amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, props, message);
            if (rc != AMQP_STATUS_OK) {
                fprintf(stderr, "amqp_bench_ref: publish failed: %s\n", amqp_error_string2(rc));
                exit(1);
            }
            published++;
        }
        amqp_frame_t frame;
        amqp_maybe_release_buffers(conn);
        int rc = amqp_simple_wait_frame(conn, &frame);
        if (rc != AMQP_STATUS_OK) {
            fprintf(stderr, "amqp_bench_ref: waiting for confirms failed: %s\n", amqp_error_string2(rc));
            exit(1);
        }
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            const amqp_basic_ack_t *ack = frame.payload.method.decoded;
            /* RabbitMQ confirms one channel's publishes in order: a tag settles every one before it */
            if ((long)ack->delivery_tag > confirmed) confirmed = (long)ack->delivery_tag;
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "amqp_bench_ref: the broker nacked a publish\n");
            exit(1);
        } else {
            fprintf(stderr, "amqp_bench_ref: unexpected method 0x%08x while waiting for confirms\n", frame.payload.method.id);
            exit(1);
        }
    }
    free(body);
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
        fprintf(stderr, "usage: %s publish|publish-confirm|publish-confirm-task|consume|consume-reply HOST PORT QUEUE COUNT SIZE|WINDOW|PREFETCH\n",
                argv[0]);
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
    } else if (strcmp(mode, "publish-confirm") == 0 || strcmp(mode, "publish-confirm-task") == 0) {
        const char *size = getenv("AMQP_BENCH_SIZE"); /* 100 bytes unless it says */
        publish_confirmed(conn, queue, count, param, size ? (size_t)atol(size) : 100,
                          strcmp(mode, "publish-confirm-task") == 0);
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
