// Decoding of protocol-0 pickle strings: "V" lines in raw-unicode-escape.
#include "pickle_text.hpp"

#include <cstdint>
#include <sstream>

namespace cs::data {
namespace {

void append_utf8(std::string& text, std::uint32_t code) {
    if (code < 0x80) {
        text += static_cast<char>(code);
    } else if (code < 0x800) {
        text += static_cast<char>(0xC0 | (code >> 6));
        text += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        text += static_cast<char>(0xE0 | (code >> 12));
        text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        text += static_cast<char>(0xF0 | (code >> 18));
        text += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (code & 0x3F));
    }
}

// raw-unicode-escape: \uXXXX and \UXXXXXXXX are escapes, every other byte is Latin-1.
std::string decode_raw_unicode_escape(const std::string& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char letter = i + 1 < line.size() ? line[i + 1] : '\0';
        const std::size_t digits = letter == 'u' ? 4 : letter == 'U' ? 8 : 0;
        if (line[i] == '\\' && digits > 0 && i + 2 + digits <= line.size()) {
            const auto code =
                static_cast<std::uint32_t>(std::stoul(line.substr(i + 2, digits), nullptr, 16));
            append_utf8(text, code);
            i += 1 + digits;
            continue;
        }
        append_utf8(text, static_cast<unsigned char>(line[i]));
    }
    return text;
}

}  // namespace

std::vector<std::string> pickled_strings(const std::string& pickle) {
    std::vector<std::string> strings;
    std::istringstream lines(pickle);
    std::string line;
    while (std::getline(lines, line)) {
        // a line may carry opcodes before the V ("aVname" appends the previous item)
        std::size_t start = 0;
        while (start < line.size() && (line[start] == 'a' || line[start] == '(')) {
            ++start;
        }
        if (start < line.size() && line[start] == 'V') {
            strings.push_back(decode_raw_unicode_escape(line.substr(start + 1)));
        }
    }
    return strings;
}

}  // namespace cs::data
