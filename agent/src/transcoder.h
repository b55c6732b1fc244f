// Turns ring records into wire records: converts ticks to CLOCK_MONOTONIC ns, widens the
// arrays the hot path narrowed and encodes them with the codec. Runs on the flusher thread;
// its buffers are reused.
#pragma once

#include <vector>

#include "clock.h"
#include "moeprof/wire/codec.h"
#include "ring.h"

namespace moeprof::agent {

class Transcoder {
 public:
  // Appends the wire record for one ring record (body as the hot path wrote it).
  void append(const RingRecordHeader& header, const uint8_t* body, const TickConverter& clock,
              wire::FrameWriter& frame);

 private:
  wire::Bytes var_;
  std::vector<uint32_t> counts_;
  std::vector<int32_t> ids_;
  std::vector<wire::PeerBytes> peers_;
};

}  // namespace moeprof::agent
