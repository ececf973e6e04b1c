/*
 * fault-link: a point-to-point link between two TUN devices, in user space, with the
 * faults of a real path: one-way delay, a rate limit with a bounded queue, random loss,
 * reordering, duplication, and a partition switch that drops everything both ways.
 *
 * This kernel has no netem, so the round-trip benchmark (bench/netem/link.ts) and the
 * fault suite (test/faults/) put two peers in two network namespaces, each with a TUN
 * device, and this program forwards every IP packet read from one device to the other.
 * A delaying TCP proxy would hide the TCP handshake's round trip and TCP's own loss
 * recovery; forwarding packets delays and drops real segments, SYNs included.
 *
 * usage: fault-link <netns-file-A> <tun-A> <netns-file-B> <tun-B> [key=value ...]
 *
 * keys (both directions alike):
 *   delay_us=N     one-way delay (default 0)
 *   rate_kbit=N    link rate; 0 = unlimited (default 0). Packets leave at this rate
 *                  through a FIFO of at most queue_bytes (tail drop beyond it).
 *   queue_bytes=N  the rate limiter's queue (default 1048576: 2 x the bandwidth-delay
 *                  product of 200 Mbit/s at 20 ms RTT)
 *   loss=P         probability of dropping a packet, 0..1 (default 0)
 *   reorder=P      probability of holding a packet back by reorder_us, so the packets
 *                  behind it overtake it (default 0)
 *   reorder_us=N   extra hold of a reordered packet (default 8000)
 *   duplicate=P    probability of delivering a packet twice (default 0)
 *   seed=N         seed of the random choices (default 1), so a run can be repeated
 *
 * Control on stdin, one command per line, answered with one line on stdout:
 *   set key=value ...   change parameters now        -> "ok"
 *   partition on|off    drop everything both ways, including packets already in
 *                       flight, until "off"          -> "ok"
 *   stats               counters as one JSON object  -> {...}
 * End of stdin (the parent is gone), SIGTERM or SIGINT stop it. It prints "ready" once
 * both devices are attached.
 *
 * Timing: packets are stamped with CLOCK_MONOTONIC and written out when due; ppoll()
 * sleeps with nanosecond resolution until the next due packet. Each direction holds at
 * most MAX_PENDING packets in a min-heap by due time (a fixed delay keeps their order;
 * reordering is the only way to overtake).
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
/* Packets held per direction: 25 ms at 1 Gbit/s of 1500-byte packets is ~2100, and a
 * rate limiter's queue of 1 MiB is ~700; beyond this a packet is dropped (counted). */
#define MAX_PENDING 16384

struct packet {
  uint64_t due_ns;
  uint64_t seq; /* arrival order: equal due times leave in order */
  uint32_t len;
  unsigned char *data;
};

struct params {
  uint64_t delay_ns, reorder_ns, queue_bytes, rate_kbit;
  double loss, reorder, duplicate;
};

struct direction {
  const char *name;
  struct packet heap[MAX_PENDING];
  unsigned count;
  uint64_t seq;
  uint64_t link_free_ns; /* when the rate limiter's last queued packet has left */
  uint64_t in, out, lost, partitioned, queue_drops, overflow, duplicated, reordered;
};

static struct params P = { 0, 8000000ull, 1048576ull, 0, 0.0, 0.0, 0.0 };
static int partition = 0;
static uint64_t rng = 1;
static volatile sig_atomic_t stop = 0;
static void on_signal (int sig) { (void)sig; stop = 1; }

static uint64_t now_ns (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: uniform in [0, 1). */
static double uniform (void) {
  rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int before (const struct packet *a, const struct packet *b) {
  return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_push (struct direction *d, const unsigned char *buf, uint32_t len, uint64_t due) {
  if (d->count == MAX_PENDING) { d->overflow++; return; }
  unsigned i = d->count++;
  struct packet p = { due, d->seq++, len, malloc(len) };
  if (p.data == NULL) { perror("malloc"); exit(1); }
  memcpy(p.data, buf, len);
  while (i > 0) {
    unsigned parent = (i - 1) / 2;
    if (!before(&p, &d->heap[parent])) break;
    d->heap[i] = d->heap[parent];
    i = parent;
  }
  d->heap[i] = p;
}

static struct packet heap_pop (struct direction *d) {
  struct packet top = d->heap[0];
  struct packet last = d->heap[--d->count];
  unsigned i = 0;
  for (;;) {
    unsigned l = 2 * i + 1, r = l + 1, m = i;
    const struct packet *best = &last;
    if (l < d->count && before(&d->heap[l], best)) { m = l; best = &d->heap[l]; }
    if (r < d->count && before(&d->heap[r], best)) { m = r; }
    if (m == i) break;
    d->heap[i] = d->heap[m];
    i = m;
  }
  if (d->count > 0) d->heap[i] = last;
  return top;
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

/* One packet read from a device: the faults decide whether, when and how often it goes. */
static void admit (struct direction *d, const unsigned char *buf, uint32_t len, uint64_t now) {
  d->in++;
  if (partition) { d->partitioned++; return; }
  if (P.loss > 0 && uniform() < P.loss) { d->lost++; return; }
  uint64_t leave = now;
  if (P.rate_kbit > 0) {
    uint64_t start = d->link_free_ns > now ? d->link_free_ns : now;
    /* bytes already waiting = time until the link is free, at the link's rate */
    uint64_t waiting = (start - now) * P.rate_kbit / 8000000ull;
    if (waiting + len > P.queue_bytes) { d->queue_drops++; return; }
    leave = start + (uint64_t)len * 8000000ull / P.rate_kbit;
    d->link_free_ns = leave;
  }
  uint64_t due = leave + P.delay_ns;
  if (P.reorder > 0 && uniform() < P.reorder) { d->reordered++; due += P.reorder_ns; }
  heap_push(d, buf, len, due);
  if (P.duplicate > 0 && uniform() < P.duplicate) { d->duplicated++; heap_push(d, buf, len, due); }
}

static void take (int fd, struct direction *d) {
  for (;;) {
    unsigned char buf[MAX_PACKET];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return; /* EAGAIN: drained */
    admit(d, buf, (uint32_t)n, now_ns());
  }
}

/* Writes every due packet of `d` to `fd`; a partition drops them instead. */
static void give (int fd, struct direction *d, uint64_t now) {
  while (d->count > 0 && d->heap[0].due_ns <= now) {
    struct packet p = heap_pop(d);
    if (partition) d->partitioned++;
    else {
      if (write(fd, p.data, p.len) < 0 && errno != EAGAIN) perror("write");
      d->out++;
    }
    free(p.data);
  }
}

static int set_param (const char *kv) {
  const char *eq = strchr(kv, '=');
  if (eq == NULL) return -1;
  size_t k = (size_t)(eq - kv);
  const char *v = eq + 1;
  if (k == 8 && strncmp(kv, "delay_us", k) == 0) P.delay_ns = strtoull(v, NULL, 10) * 1000ull;
  else if (k == 9 && strncmp(kv, "rate_kbit", k) == 0) P.rate_kbit = strtoull(v, NULL, 10);
  else if (k == 11 && strncmp(kv, "queue_bytes", k) == 0) P.queue_bytes = strtoull(v, NULL, 10);
  else if (k == 4 && strncmp(kv, "loss", k) == 0) P.loss = strtod(v, NULL);
  else if (k == 7 && strncmp(kv, "reorder", k) == 0) P.reorder = strtod(v, NULL);
  else if (k == 10 && strncmp(kv, "reorder_us", k) == 0) P.reorder_ns = strtoull(v, NULL, 10) * 1000ull;
  else if (k == 9 && strncmp(kv, "duplicate", k) == 0) P.duplicate = strtod(v, NULL);
  else if (k == 4 && strncmp(kv, "seed", k) == 0) rng = strtoull(v, NULL, 10) | 1;
  else return -1;
  return 0;
}

static void print_dir (const struct direction *d) {
  printf("\"%s\":{\"in\":%llu,\"out\":%llu,\"lost\":%llu,\"partitioned\":%llu,\"queueDrops\":%llu,\"overflow\":%llu,\"duplicated\":%llu,\"reordered\":%llu,\"pending\":%u}",
    d->name, (unsigned long long)d->in, (unsigned long long)d->out, (unsigned long long)d->lost,
    (unsigned long long)d->partitioned, (unsigned long long)d->queue_drops, (unsigned long long)d->overflow,
    (unsigned long long)d->duplicated, (unsigned long long)d->reordered, d->count);
}

static struct direction ab = { .name = "ab" }, ba = { .name = "ba" };

/* One control line from stdin. */
static void command (char *line) {
  char *save = NULL;
  char *word = strtok_r(line, " \t\r\n", &save);
  if (word == NULL) return;
  int ok = 1;
  if (strcmp(word, "set") == 0) {
    for (char *kv = strtok_r(NULL, " \t\r\n", &save); kv != NULL; kv = strtok_r(NULL, " \t\r\n", &save)) {
      if (set_param(kv) != 0) ok = 0;
    }
  } else if (strcmp(word, "partition") == 0) {
    char *v = strtok_r(NULL, " \t\r\n", &save);
    if (v != NULL && strcmp(v, "on") == 0) partition = 1;
    else if (v != NULL && strcmp(v, "off") == 0) partition = 0;
    else ok = 0;
  } else if (strcmp(word, "stats") == 0) {
    printf("{\"partition\":%s,", partition ? "true" : "false");
    print_dir(&ab);
    putchar(',');
    print_dir(&ba);
    printf("}\n");
    fflush(stdout);
    return;
  } else {
    ok = 0;
  }
  printf(ok ? "ok\n" : "error\n");
  fflush(stdout);
}

int main (int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s <netns-file-A> <tun-A> <netns-file-B> <tun-B> [key=value ...]\n", argv[0]);
    return 2;
  }
  for (int i = 5; i < argc; i++) {
    if (set_param(argv[i]) != 0) { fprintf(stderr, "fault-link: bad parameter %s\n", argv[i]); return 2; }
  }
  int a = open_tun_in(argv[1], argv[2]);
  int b = a < 0 ? -1 : open_tun_in(argv[3], argv[4]);
  if (a < 0 || b < 0) return 1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int flags = fcntl(0, F_GETFL);
  fcntl(0, F_SETFL, flags | O_NONBLOCK);
  char line[4096];
  size_t used = 0;
  printf("ready\n");
  fflush(stdout);
  while (!stop) {
    uint64_t now = now_ns();
    give(b, &ab, now);
    give(a, &ba, now);
    uint64_t next = UINT64_MAX;
    if (ab.count > 0) next = ab.heap[0].due_ns;
    if (ba.count > 0 && ba.heap[0].due_ns < next) next = ba.heap[0].due_ns;
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
      ssize_t n = read(0, line + used, sizeof line - 1 - used);
      if (n == 0) break; /* parent gone */
      if (n > 0) {
        used += (size_t)n;
        line[used] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
          *nl = '\0';
          command(line);
          size_t rest = used - (size_t)(nl + 1 - line);
          memmove(line, nl + 1, rest);
          used = rest;
          line[used] = '\0';
        }
        if (used == sizeof line - 1) used = 0; /* an endless line: dropped */
      }
    }
    if (fds[0].revents & POLLIN) take(a, &ab);
    if (fds[1].revents & POLLIN) take(b, &ba);
  }
  fprintf(stderr, "fault-link: a->b %llu in, %llu out; b->a %llu in, %llu out\n",
    (unsigned long long)ab.in, (unsigned long long)ab.out, (unsigned long long)ba.in, (unsigned long long)ba.out);
  return 0;
}
