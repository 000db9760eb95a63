#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H

// librabbitmq 0.11 (Debian 12) installs <amqp.h>; 0.12+ moved it to <rabbitmq-c/amqp.h>.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/prctl.h>

/// `amqp_login_with_properties` is variadic (the SASL arguments), which Swift cannot call.
/// This shim fixes the mechanism to PLAIN, the only one RabbitMQ enables by default.
static inline amqp_rpc_reply_t crabbitmq_login_plain(
    amqp_connection_state_t state, const char *vhost, int channel_max, int frame_max,
    int heartbeat, const amqp_table_t *client_properties, const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

/// `amqp_login_with_properties` with the EXTERNAL mechanism (TLS client certificate as identity).
static inline amqp_rpc_reply_t crabbitmq_login_external(
    amqp_connection_state_t state, const char *vhost, int channel_max, int frame_max,
    int heartbeat, const amqp_table_t *client_properties, const char *identity) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_EXTERNAL, identity);
}

/// Makes OpenSSL's peer verification also check that the certificate names the IP address `ip`
/// (an `IP:` subjectAltName), on the SSL_CTX of a librabbitmq TLS socket
/// (`amqp_ssl_socket_get_context`), before it opens. librabbitmq's own hostname check only reads
/// DNS names, so a broker reached by IP address could never be verified. Returns 1 on success.
static inline int crabbitmq_ssl_expect_ip(void *ssl_ctx, const char *ip) {
    if (!ssl_ctx) return 0;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);
    return param ? X509_VERIFY_PARAM_set1_ip_asc(param, ip) : 0;
}

/// Names the calling thread (as `top -H` and /proc show it). `prctl` is variadic, which Swift
/// cannot call; `pthread_setname_np` needs _GNU_SOURCE, which the Glibc module lacks.
static inline int crabbitmq_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
