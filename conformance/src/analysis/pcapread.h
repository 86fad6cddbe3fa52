/* pcapread.h - pcap/pcapng files into the timeline: link layers, IPv4/IPv6, TCP/UDP dispatch. */
#ifndef CONFORM_PCAPREAD_H
#define CONFORM_PCAPREAD_H

#include <stddef.h>

struct conform_timeline;

int pcap_ingest_file(struct conform_timeline *t, const char *path, const char *capture, char *err,
                     size_t errlen);
int pcap_ingest_mem(struct conform_timeline *t, const void *data, size_t len, const char *capture,
                    char *err, size_t errlen);

#endif
