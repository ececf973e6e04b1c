/*
 * delay-link: a point-to-point link with a fixed one-way delay, in user space.
 *
 * This kernel has no netem, so the round-trip benchmark (bench/netem/link.ts) puts the
 * dialer and the listener in two network namespaces, each with a TUN device, and this
 * program forwards every IP packet read from one TUN device to the other after holding
 * it for exactly the delay. A delaying TCP proxy would hide the TCP handshake's round
 * trip; forwarding packets delays every packet, SYNs included.
 *
 * usage: delay-link <netns-file-A> <tun-A> <netns-file-B> <tun-B> <delay-us>
 *
 * The TUN devices must exist (ip tuntap add ... mode tun) in their namespaces; this
 * program enters each namespace (setns) to attach to its device. It prints "ready"
 * once both are attached, and exits when stdin closes (its parent is gone) or on
 * SIGTERM/SIGINT.
 *
 * Timing: packets are stamped with CLOCK_MONOTONIC when read and written out when
 * stamp + delay is reached; ppoll() sleeps with nanosecond resolution until the next
 * due packet. Each direction is a FIFO of at most QUEUE_PACKETS packets: a fixed
 * delay never reorders, and a full queue drops the new packet (declared policy: a
 * tail-drop router; the benchmark's traffic is far below it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Largest packet: the TUN MTU is 1500; 65535 covers any IPv4 packet. */
#define MAX_PACKET 65535
/* Packets in flight per direction: 25 ms at 1 Gbit/s of 1500-byte packets is ~2100. */
#define QUEUE_PACKETS 8192

struct packet {
  uint64_t due_ns;
  uint32_t len;
  unsigned char *data;
};

struct queue {
  struct packet slots[QUEUE_PACKETS];
  unsigned head, count;
  uint64_t dropped;
};

static volatile sig_atomic_t stop = 0;
static void on_signal (int sig) { (void)sig; stop = 1; }

static uint64_t now_ns (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_tun_in (const char *netns_file, const char *name) {
  int ns = open(netns_file, O_RDONLY | O_CLOEXEC);
  if (ns < 0) { perror(netns_file); return -1; }
  if (setns(ns, CLONE_NEWNET) != 0) { perror("setns"); close(ns); return -1; }
  close(ns);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) { perror("/dev/net/tun"); return -1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) { perror("TUNSETIFF"); close(fd); return -1; }
  return fd;
}

/* Reads every packet waiting on `fd` into `q`, due at now + delay. */
static void take (int fd, struct queue *q, uint64_t delay_ns) {
  for (;;) {
    unsigned char buf[MAX_PACKET];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return; /* EAGAIN: drained */
    if (q->count == QUEUE_PACKETS) { q->dropped++; continue; }
    struct packet *p = &q->slots[(q->head + q->count) % QUEUE_PACKETS];
    p->data = realloc(p->data, (size_t)n);
    if (p->data == NULL) { perror("realloc"); exit(1); }
    memcpy(p->data, buf, (size_t)n);
    p->len = (uint32_t)n;
    p->due_ns = now_ns() + delay_ns;
    q->count++;
  }
}

/* Writes every due packet of `q` to `fd`. */
static void give (int fd, struct queue *q, uint64_t now) {
  while (q->count > 0) {
    struct packet *p = &q->slots[q->head];
    if (p->due_ns > now) return;
    if (write(fd, p->data, p->len) < 0 && errno != EAGAIN) perror("write");
    q->head = (q->head + 1) % QUEUE_PACKETS;
    q->count--;
  }
}

int main (int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <netns-file-A> <tun-A> <netns-file-B> <tun-B> <delay-us>\n", argv[0]);
    return 2;
  }
  uint64_t delay_ns = strtoull(argv[5], NULL, 10) * 1000ull;
  int a = open_tun_in(argv[1], argv[2]);
  int b = a < 0 ? -1 : open_tun_in(argv[3], argv[4]);
  if (a < 0 || b < 0) return 1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  static struct queue ab, ba; /* a -> b and b -> a */
  printf("ready\n");
  fflush(stdout);
  while (!stop) {
    uint64_t now = now_ns();
    give(b, &ab, now);
    give(a, &ba, now);
    uint64_t next = UINT64_MAX;
    if (ab.count > 0) next = ab.slots[ab.head].due_ns;
    if (ba.count > 0 && ba.slots[ba.head].due_ns < next) next = ba.slots[ba.head].due_ns;
    struct timespec ts, *timeout = NULL;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      ts.tv_sec = (time_t)(wait / 1000000000ull);
      ts.tv_nsec = (long)(wait % 1000000000ull);
      timeout = &ts;
    }
    struct pollfd fds[3] = { { a, POLLIN, 0 }, { b, POLLIN, 0 }, { 0, POLLIN, 0 } };
    int r = ppoll(fds, 3, timeout, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      perror("ppoll");
      return 1;
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      char c[64];
      if (read(0, c, sizeof c) <= 0) break; /* parent gone */
    }
    if (fds[0].revents & POLLIN) take(a, &ab, delay_ns);
    if (fds[1].revents & POLLIN) take(b, &ba, delay_ns);
  }
  fprintf(stderr, "delay-link: dropped %llu a->b, %llu b->a\n", (unsigned long long)ab.dropped, (unsigned long long)ba.dropped);
  return 0;
}
