// tests/fuzz/fuzz_s3_xml.cpp — libFuzzer target for the s3 client's XML reading
// (plugins/s3/s3_xml.cpp): whatever an S3 endpoint (or a proxy in front of it) answers, the tag
// extractor, the entity decoder and the percent decoder must neither crash nor read out of
// bounds, and their results must be consistent:
//   - every XmlText/XmlTexts result is XmlUnescape of an XmlElements body, in the same order;
//   - XmlUnescape(XmlEscape(s)) == s for any text;
//   - PercentDecode never grows its input.
// Input: the first byte picks the tag (Key, Code, Contents, UploadId, …), the rest is the
// answer body. Seeds in tests/fuzz/corpus-s3-xml/. Built and run by tests/fuzz/run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "s3_xml.hpp"

namespace {

constexpr std::string_view kTags[] = {"Key",      "Code",    "Message",  "Contents",
                                      "UploadId", "ETag",    "NextContinuationToken",
                                      "Error",    "IsTruncated", "a"};

void Require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view tag = kTags[data[0] % std::size(kTags)];
  const std::string_view xml(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace weir::s3;

  const std::vector<std::string_view> raw = XmlElements(xml, tag);
  const std::vector<std::string> texts = XmlTexts(xml, tag);
  Require(raw.size() == texts.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    // A body is a view into the input.
    Require(raw[i].data() >= xml.data() && raw[i].data() + raw[i].size() <= xml.data() + xml.size());
    Require(texts[i] == XmlUnescape(raw[i]));
  }
  const std::optional<std::string> first = XmlText(xml, tag);
  Require(first.has_value() == !texts.empty());
  if (first) Require(*first == texts.front());

  const std::string unescaped = XmlUnescape(xml);
  Require(XmlUnescape(XmlEscape(xml)) == std::string(xml));
  Require(XmlUnescape(XmlEscape(unescaped)) == unescaped);
  Require(PercentDecode(xml, true).size() <= xml.size());
  Require(PercentDecode(xml, false).size() <= xml.size());
  return 0;
}
