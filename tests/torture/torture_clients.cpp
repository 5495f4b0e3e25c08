// tests/torture/torture_clients.cpp — the SDK-style clients (see torture_clients.hpp).
#include "torture_clients.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "torture_util.hpp"

namespace weir::torture {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int kUsersPerClient = 16;
constexpr int kRequestTimeoutS = 15;

}  // namespace

struct ClientFleet::Client {
  int index = 0;
  std::string name;  ///< "c3"
  std::mt19937_64 rng;
  int64_t next_event = 0;
  // Pending (sent, not yet acknowledged) and acknowledged state, guarded by mu.
  mutable std::mutex mu;
  std::vector<std::string> acked_ids;
  std::map<std::string, ProfileState> acked_profiles;
  std::map<std::string, ProfileState> sent_profiles;  ///< last version sent per user
  ClientTotals totals;
};

ClientFleet::ClientFleet(int clients, uint64_t seed, std::function<int()> port, std::string token,
                         int events_per_second)
    : port_(std::move(port)), token_(std::move(token)), events_per_second_(events_per_second) {
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_unique<Client>();
    c->index = i;
    c->name = "c" + std::to_string(i);
    c->rng.seed(seed * 1000003u + static_cast<uint64_t>(i) + 1);
    clients_.push_back(std::move(c));
  }
}

ClientFleet::~ClientFleet() {
  abort_ = true;
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ClientFleet::Start() {
  for (auto& c : clients_) threads_.emplace_back([this, raw = c.get()] { Run(*raw); });
}

bool ClientFleet::StopAndJoin() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return errors_.empty();
}

bool ClientFleet::SendUntilAcked(Client& c, const std::string& target,
                                 const std::vector<std::string>& headers,
                                 const std::string& body) {
  for (int attempt = 0;; ++attempt) {
    if (abort_) return false;
    const int port = port_();
    Reply r = port > 0 ? HttpPost(port, target, headers, body, kRequestTimeoutS) : Reply{};
    {
      std::lock_guard<std::mutex> lock(c.mu);
      ++c.totals.attempts;
      if (r.status == 0) ++c.totals.no_answer;
      if (r.status == 503) ++c.totals.unavailable;
      if (r.status == 200) {
        ++c.totals.requests;
        if (attempt > 0) ++c.totals.resent_after_loss;
      }
    }
    if (r.status == 200) return true;
    if (r.status != 0 && r.status != 503) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(c.name + ": POST " + target + " answered " + std::to_string(r.status) +
                        ": " + r.body.substr(0, 300));
      return false;
    }
    // Exponential backoff with jitter, capped: what the Mixpanel and Segment SDKs do.
    const int cap = std::min(1000, 25 << std::min(attempt, 6));
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(cap / 2, cap)(c.rng)));
  }
}

void ClientFleet::Run(Client& c) {
  const std::string auth_bearer = "Authorization: Bearer " + token_;
  const std::string auth_basic = "Authorization: " + BasicAuthUser(token_);
  auto pick = [&c](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(c.rng); };
  while (!stop_ && !abort_) {
    const int kind = pick(0, 99);
    if (kind < 75) {
      // A batch of events, by turns through the native API and Mixpanel's /import.
      const bool native = pick(0, 1) == 0;
      const int n = pick(1, 40);
      std::vector<std::string> ids;
      std::string body = native ? "" : "[";
      for (int i = 0; i < n; ++i) {
        char id[48];
        std::snprintf(id, sizeof id, "%s-%09lld", c.name.c_str(),
                      static_cast<long long>(c.next_event++));
        ids.emplace_back(id);
        // Mostly now; one in ten is late (up to three days), landing in an older partition.
        int64_t t = NowMs();
        if (pick(0, 9) == 0) t -= static_cast<int64_t>(pick(1, 3 * 24 * 3600)) * 1000;
        const std::string user = c.name + "-u" + std::to_string(pick(0, kUsersPerClient - 1));
        const std::string props = "\"client\":\"" + c.name + "\",\"n\":" + std::to_string(i) +
                                  ",\"page\":\"/p/" + std::to_string(pick(0, 999)) + "\"";
        if (native) {
          body += "{\"event\":\"torture\",\"time\":" + std::to_string(t) + ",\"distinct_id\":\"" +
                  user + "\",\"insert_id\":\"" + id + "\",\"properties\":{" + props + "}}\n";
        } else {
          body += std::string(i == 0 ? "" : ",") + "{\"event\":\"torture\",\"properties\":{" +
                  "\"time\":" + std::to_string(t) + ",\"distinct_id\":\"" + user +
                  "\",\"$insert_id\":\"" + id + "\"," + props + "}}";
        }
      }
      if (!native) body += "]";
      const bool ok =
          native ? SendUntilAcked(c, "/v1/events",
                                  {auth_bearer, "Content-Type: application/x-ndjson"}, body)
                 : SendUntilAcked(c, "/import?strict=1",
                                  {auth_basic, "Content-Type: application/json"}, body);
      if (!ok) return;
      std::lock_guard<std::mutex> lock(c.mu);
      c.acked_ids.insert(c.acked_ids.end(), ids.begin(), ids.end());
      c.totals.events += n;
    } else {
      // Profile updates of this client's own users (one writer per profile, so "latest
      // acknowledged" is well defined), through /v1/users or Mixpanel's /engage.
      const bool native = pick(0, 1) == 0;
      const int n = pick(1, 3);
      std::vector<std::pair<std::string, ProfileState>> updates;
      std::string body = "[";
      for (int i = 0; i < n; ++i) {
        const std::string user = c.name + "-u" + std::to_string(pick(0, kUsersPerClient - 1));
        ProfileState s;
        {
          std::lock_guard<std::mutex> lock(c.mu);
          ProfileState& last = c.sent_profiles[user];
          // A user twice in one request: the later update wins, with a later time.
          s.version = last.version + 1;
          s.time_ms = std::max(NowMs(), last.time_ms + 1);
          s.owner = c.name;
          last = s;
        }
        updates.emplace_back(user, s);
        const std::string set = "{\"v\":" + std::to_string(s.version) + ",\"owner\":\"" +
                                c.name + "\"}";
        body += std::string(i == 0 ? "" : ",") +
                (native ? "{\"distinct_id\":\"" + user + "\",\"time\":" +
                              std::to_string(s.time_ms) + ",\"$set\":" + set + "}"
                        : "{\"$token\":\"" + token_ + "\",\"$distinct_id\":\"" + user +
                              "\",\"$time\":" + std::to_string(s.time_ms) + ",\"$set\":" + set +
                              "}");
      }
      body += "]";
      const bool ok =
          native ? SendUntilAcked(c, "/v1/users", {auth_bearer, "Content-Type: application/json"},
                                  body)
                 : SendUntilAcked(c, "/engage?verbose=1", {"Content-Type: application/json"},
                                  body);
      if (!ok) return;
      std::lock_guard<std::mutex> lock(c.mu);
      for (const auto& [user, s] : updates) c.acked_profiles[user] = s;
      c.totals.profile_updates += n;
    }
    if (events_per_second_ > 0) {
      // ~20 events per request on average, spread over the fleet.
      const int per_client = std::max(1, events_per_second_ / static_cast<int>(clients_.size()));
      const int pause_ms = std::max(1, 20 * 1000 / per_client);
      std::this_thread::sleep_for(std::chrono::milliseconds(pick(pause_ms / 2, pause_ms * 3 / 2)));
    }
  }
}

std::vector<std::string> ClientFleet::AckedEventIds() const {
  std::vector<std::string> out;
  for (const auto& c : clients_) {
    std::lock_guard<std::mutex> lock(c->mu);
    out.insert(out.end(), c->acked_ids.begin(), c->acked_ids.end());
  }
  return out;
}

std::map<std::string, ProfileState> ClientFleet::AckedProfiles() const {
  std::map<std::string, ProfileState> out;
  for (const auto& c : clients_) {
    std::lock_guard<std::mutex> lock(c->mu);
    out.insert(c->acked_profiles.begin(), c->acked_profiles.end());
  }
  return out;
}

ClientTotals ClientFleet::Totals() const {
  ClientTotals t;
  for (const auto& c : clients_) {
    std::lock_guard<std::mutex> lock(c->mu);
    t.requests += c->totals.requests;
    t.attempts += c->totals.attempts;
    t.no_answer += c->totals.no_answer;
    t.unavailable += c->totals.unavailable;
    t.events += c->totals.events;
    t.profile_updates += c->totals.profile_updates;
    t.resent_after_loss += c->totals.resent_after_loss;
  }
  return t;
}

std::vector<std::string> ClientFleet::Errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

}  // namespace weir::torture
