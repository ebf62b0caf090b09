/*
 * tcpserve — lwIP in a pVM (guest/net/kxnet.h), built with kx-cc: a TCP
 * echo server on port 7 and an HTTP-ish one on 8080, for
 * tests/cli/net.bats.  First it talks to itself over the loopback
 * interface (127.0.0.1:7) and prints "loopback: ok".
 *
 *   tcpserve SECS     serve until SECS pass or an echo client sends "quit"
 *
 * lwIP's raw API: callbacks run inside kx_net_poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/net/kxnet.h"
#include "lwip/tcp.h"

static int quit;
static unsigned served, echoed;
static char loop_got[16];

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (p == NULL || err != ERR_OK) {
		tcp_close(pcb);
		return ERR_OK;
	}
	/* No room to send it all back: lwIP keeps the data and offers it
	 * again once acknowledgements made room (the sender slows down). */
	if (tcp_sndbuf(pcb) < p->tot_len || tcp_sndqueuelen(pcb) + pbuf_clen(p) > TCP_SND_QUEUELEN) {
		tcp_output(pcb);
		return ERR_MEM;
	}
	for (struct pbuf *q = p; q != NULL; q = q->next) {
		if (q->len >= 4 && memcmp(q->payload, "quit", 4) == 0)
			quit = 1;
		tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
		echoed += q->len;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	tcp_output(pcb);
	return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	tcp_recv(pcb, echo_recv);
	return ERR_OK;
}

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	static const char body[] = "hello from a pVM\n";
	char head[160];

	(void)arg;
	if (p == NULL || err != ERR_OK) {
		tcp_close(pcb);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	/* Any request gets the page (the request's end is not waited for). */
	if (pbuf_memfind(p, "\r\n\r\n", 4, 0) != 0xFFFF || p->tot_len > 0) {
		snprintf(head, sizeof(head),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", sizeof(body) - 1);
		tcp_write(pcb, head, strlen(head), TCP_WRITE_FLAG_COPY);
		tcp_write(pcb, body, sizeof(body) - 1, TCP_WRITE_FLAG_COPY);
		tcp_output(pcb);
		tcp_close(pcb);
		served++;
		tcp_recv(pcb, NULL);
	}
	pbuf_free(p);
	return ERR_OK;
}

static err_t http_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	tcp_recv(pcb, http_recv);
	return ERR_OK;
}

static err_t loop_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (p == NULL || err != ERR_OK) {
		tcp_close(pcb);
		return ERR_OK;
	}
	pbuf_copy_partial(p, loop_got + strlen(loop_got), (u16_t)(sizeof(loop_got) - 1 -
			  strlen(loop_got)), 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t loop_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK)
		return err;
	tcp_recv(pcb, loop_recv);
	tcp_write(pcb, "loop", 4, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	return ERR_OK;
}

static struct tcp_pcb *listen_on(u16_t port, tcp_accept_fn fn)
{
	struct tcp_pcb *pcb = tcp_new();

	if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK)
		return NULL;
	pcb = tcp_listen(pcb);
	if (pcb != NULL)
		tcp_accept(pcb, fn);
	return pcb;
}

int main(int argc, char **argv)
{
	struct kx_net n;
	struct tcp_pcb *loop;
	ip_addr_t lo;
	uint64_t end, t;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: tcpserve SECS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	rc = kx_net_up(&n);
	if (rc != 0) {
		printf("net: no interface: %d\n", rc);
		return 4;
	}
	if (listen_on(7, echo_accept) == NULL || listen_on(8080, http_accept) == NULL) {
		printf("net: cannot listen\n");
		return 3;
	}
	/* The loopback interface: talk to ourselves. */
	IP_ADDR4(&lo, 127, 0, 0, 1);
	loop = tcp_new();
	if (loop == NULL || tcp_connect(loop, &lo, 7, loop_connected) != ERR_OK) {
		printf("loopback: cannot connect\n");
		return 3;
	}
	t = kx_net_now_ns() + 2000000000ull;
	while (strcmp(loop_got, "loop") != 0 && kx_net_now_ns() < t)
		kx_net_poll(&n, t);
	printf("loopback: %s\n", strcmp(loop_got, "loop") == 0 ? "ok" : "failed");
	tcp_close(loop);
	printf("net: serving\n");
	end = kx_net_now_ns() + strtoull(argv[1], NULL, 10) * 1000000000ull;
	while (!quit && kx_net_now_ns() < end)
		kx_net_poll(&n, end);
	/* Let the last answers leave. */
	t = kx_net_now_ns() + 200000000ull;
	while (kx_net_now_ns() < t)
		kx_net_poll(&n, t);
	printf("net: served %u pages, echoed %u bytes; frames in %llu out %llu; kicks %llu waits %llu\n",
	       served, echoed, (unsigned long long)n.frames_in, (unsigned long long)n.frames_out,
	       (unsigned long long)n.dev.kicks, (unsigned long long)n.dev.waits);
	return 0;
}
