/* Prints the size and field offsets of the ABI structs the Python adapter declares with
 * ctypes (agent/python/moeprof/_abi.py), as JSON, so that a test can compare the two. */
#include <stddef.h>
#include <stdio.h>

#include "moeprof/moeprof.h"

#define FIELD(type, field) printf("%s\"%s\": %zu", first++ ? ", " : "", #field, offsetof(type, field))
#define BEGIN(name, type) printf("%s\"%s\": {\"size\": %zu, \"fields\": {", n++ ? ", " : "", name, sizeof(type)), first = 0
#define END() printf("}}")

int main(void) {
  int n = 0, first = 0;
  printf("{");
  BEGIN("InitOptions", moeprof_init_options);
  FIELD(moeprof_init_options, struct_size); FIELD(moeprof_init_options, api_version);
  FIELD(moeprof_init_options, socket_path); FIELD(moeprof_init_options, routing_mode);
  FIELD(moeprof_init_options, routing_sample_every);
  END();
  BEGIN("Topology", moeprof_topology);
  FIELD(moeprof_topology, struct_size); FIELD(moeprof_topology, rank); FIELD(moeprof_topology, local_rank);
  FIELD(moeprof_topology, world_size); FIELD(moeprof_topology, ep_size); FIELD(moeprof_topology, num_layers);
  FIELD(moeprof_topology, num_experts); FIELD(moeprof_topology, top_k); FIELD(moeprof_topology, num_shared_experts);
  FIELD(moeprof_topology, hidden_size); FIELD(moeprof_topology, model_name);
  END();
  BEGIN("PeerBytes", moeprof_peer_bytes);
  FIELD(moeprof_peer_bytes, struct_size); FIELD(moeprof_peer_bytes, num_peers); FIELD(moeprof_peer_bytes, peers);
  FIELD(moeprof_peer_bytes, send_bytes); FIELD(moeprof_peer_bytes, recv_bytes);
  END();
  BEGIN("AllToAllEvent", moeprof_all_to_all_event);
  FIELD(moeprof_all_to_all_event, struct_size); FIELD(moeprof_all_to_all_event, source);
  FIELD(moeprof_all_to_all_event, start_ns); FIELD(moeprof_all_to_all_event, end_ns);
  FIELD(moeprof_all_to_all_event, step); FIELD(moeprof_all_to_all_event, layer);
  FIELD(moeprof_all_to_all_event, phase); FIELD(moeprof_all_to_all_event, tid);
  FIELD(moeprof_all_to_all_event, reserved); FIELD(moeprof_all_to_all_event, bytes);
  END();
  BEGIN("ComputeEvent", moeprof_compute_event);
  FIELD(moeprof_compute_event, struct_size); FIELD(moeprof_compute_event, source);
  FIELD(moeprof_compute_event, start_ns); FIELD(moeprof_compute_event, end_ns); FIELD(moeprof_compute_event, step);
  FIELD(moeprof_compute_event, layer); FIELD(moeprof_compute_event, kind); FIELD(moeprof_compute_event, tid);
  FIELD(moeprof_compute_event, reserved); FIELD(moeprof_compute_event, name);
  END();
  BEGIN("Range", moeprof_range);
  FIELD(moeprof_range, struct_size); FIELD(moeprof_range, source); FIELD(moeprof_range, start_ns);
  FIELD(moeprof_range, end_ns); FIELD(moeprof_range, step); FIELD(moeprof_range, tid); FIELD(moeprof_range, kind);
  FIELD(moeprof_range, category); FIELD(moeprof_range, color); FIELD(moeprof_range, domain);
  FIELD(moeprof_range, name); FIELD(moeprof_range, payload);
  END();
  printf(", \"constants\": {\"API_VERSION\": %d, \"SOURCE_PYTHON\": %d, \"PHASE_DISPATCH\": %d, "
         "\"PHASE_COMBINE\": %d, \"PHASE_OTHER\": %d, \"RANGE_MARK\": %d, \"NOTE_DOMAIN\": \"%s\"}}\n",
         MOEPROF_API_VERSION, MOEPROF_SOURCE_PYTHON, MOEPROF_PHASE_DISPATCH, MOEPROF_PHASE_COMBINE,
         MOEPROF_PHASE_OTHER, MOEPROF_RANGE_MARK, MOEPROF_NOTE_DOMAIN);
  return 0;
}
