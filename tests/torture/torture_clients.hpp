// tests/torture/torture_clients.hpp — SDK-style clients for the torture test: each is a thread
// speaking real HTTP to the collector with the real ingestion protocols (native /v1/events and
// /v1/users, Mixpanel /import?strict=1 and /engage), sending events with unique insert_ids and
// profile updates that `$set` a per-user, increasing version. A request counts as acknowledged
// only when it got a 200; until then it is re-sent byte for byte (connection refused while the
// collector is dead, a reset, a timeout, a 503), as a real SDK does — so a request whose answer
// was lost is sent again and the system must deduplicate it by insert_id.
//
//   ClientFleet fleet(4, seed, [&] { return collector_port.load(); }, "tok");
//   fleet.Start(); ...; fleet.StopAndJoin();
//   for (const std::string& id : fleet.AckedEventIds()) ...
#ifndef WEIR_TESTS_TORTURE_TORTURE_CLIENTS_HPP
#define WEIR_TESTS_TORTURE_TORTURE_CLIENTS_HPP

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace weir::torture {

/// The latest acknowledged state of one profile: its version (the `v` property) and the time
/// of the update that set it (the exported `updated_at`).
struct ProfileState {
  int64_t version = 0;
  int64_t time_ms = 0;
  std::string owner;  ///< the `owner` property: the client's name
};

struct ClientTotals {
  int64_t requests = 0;          ///< requests acknowledged
  int64_t attempts = 0;          ///< HTTP attempts, acknowledged or not
  int64_t no_answer = 0;         ///< attempts that got no complete answer (refused, reset, timeout)
  int64_t unavailable = 0;       ///< attempts answered 503
  int64_t events = 0;            ///< events acknowledged
  int64_t profile_updates = 0;   ///< profile updates acknowledged
  int64_t resent_after_loss = 0; ///< requests re-sent after an attempt whose fate was unknown
};

class ClientFleet {
 public:
  /// `port` is read before every attempt (the collector may come back on another port).
  /// `events_per_second` paces the whole fleet (0: as fast as acknowledgements come).
  ClientFleet(int clients, uint64_t seed, std::function<int()> port, std::string token,
              int events_per_second);
  ~ClientFleet();  ///< aborts and joins the threads if still running

  void Start();
  /// Stops sending new requests; each client finishes (keeps re-sending until acknowledged)
  /// the request it has in flight. Returns false if a client gave up (see Errors()).
  bool StopAndJoin();
  /// Makes in-flight requests give up too (test failure paths only).
  void Abort() { abort_ = true; }

  /// Every acknowledged event's insert_id (each once).
  std::vector<std::string> AckedEventIds() const;
  /// distinct_id → latest acknowledged profile state.
  std::map<std::string, ProfileState> AckedProfiles() const;
  ClientTotals Totals() const;
  /// Unexpected answers (a 4xx means the test itself sent something wrong).
  std::vector<std::string> Errors() const;

 private:
  struct Client;
  void Run(Client& c);
  /// Sends until acknowledged; false on an unexpected answer or abort.
  bool SendUntilAcked(Client& c, const std::string& target, const std::vector<std::string>& headers,
                      const std::string& body);

  std::function<int()> port_;
  std::string token_;
  int events_per_second_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
};

}  // namespace weir::torture

#endif  // WEIR_TESTS_TORTURE_TORTURE_CLIENTS_HPP
