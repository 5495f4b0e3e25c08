// plugins/s3/s3_xml.hpp — the little XML S3 answers need read: the text of named elements in
// error bodies (<Code>, <Message>), list results (<Key>, <NextContinuationToken>) and
// multipart answers (<UploadId>). A tag extractor, not a parser: S3's answers are flat,
// machine-written documents without attributes on the elements read here, CDATA or comments.
//
//   std::optional<std::string> code = weir::s3::XmlText(body, "Code");  // "NoSuchBucket"
#ifndef WEIR_S3_XML_HPP
#define WEIR_S3_XML_HPP

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weir::s3 {

/// The unescaped text of the first <tag>…</tag> in `xml`, or nullopt. "<tag/>" gives "".
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);
/// The unescaped text of every <tag>…</tag>, in document order.
std::vector<std::string> XmlTexts(std::string_view xml, std::string_view tag);
/// Every raw (still escaped) <tag>…</tag> body, e.g. each <Contents> block of a list.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
/// Replaces the five predefined entities and numeric character references (&#NN; &#xNN;).
std::string XmlUnescape(std::string_view text);
/// Escapes & < > " ' for element text.
std::string XmlEscape(std::string_view text);
/// Decodes %XX; with `plus_is_space`, '+' becomes ' ' (S3's encoding-type=url answers).
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace weir::s3

#endif  // WEIR_S3_XML_HPP
