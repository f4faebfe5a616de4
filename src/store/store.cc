#include "store/store.h"

#include "store/sqlite/text_codec.h"

namespace vibekit::store {

Status DecodeStoredText(std::string_view stored, std::string* out) {
  return sqlite::DecodeTextInto(stored.data(), stored.size(), out);
}

Status ScanVisitor::OnStoredEvent(const Event& event, StoredTexts encoded) {
  if (!encoded.prompt && !encoded.stream_data) return OnEvent(event);
  Event decoded = event;
  if (encoded.prompt) VK_RETURN_IF_ERROR(DecodeStoredText(*event.prompt, &*decoded.prompt));
  if (encoded.stream_data) {
    VK_RETURN_IF_ERROR(DecodeStoredText(*event.stream_data, &*decoded.stream_data));
  }
  return OnEvent(decoded);
}

}  // namespace vibekit::store
