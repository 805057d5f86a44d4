#include "exporters/json_event_keys.h"

namespace scopetrace::exporters::json {

int EventKeyIndex(std::string_view key) {
  auto is = [&](std::string_view name, EventKey k) {
    return key == name ? static_cast<int>(k) : -1;
  };
  switch (key.size()) {
    case 2:
      if (key[0] == 'p') return is("ph", EventKey::kPh);
      if (key[0] == 't') return is("ts", EventKey::kTs);
      if (key[0] == 'i') return is("id", EventKey::kId);
      return is("bp", EventKey::kBp);
    case 3:
      if (key[0] == 'p') return is("pid", EventKey::kPid);
      if (key[0] == 't') return is("tid", EventKey::kTid);
      if (key[0] == 'd') return is("dur", EventKey::kDur);
      return is("cat", EventKey::kCat);
    case 4:
      if (key[0] == 'n') return is("name", EventKey::kName);
      return is("args", EventKey::kArgs);
    case 7:
      if (key[0] == 'b') return is("bind_id", EventKey::kBindId);
      return is("flow_in", EventKey::kFlowIn);
    case 8:
      return is("flow_out", EventKey::kFlowOut);
    default:
      return -1;
  }
}

}  // namespace scopetrace::exporters::json
