// Reading optional fields of an options object that lib/ already validated: a field that is
// absent or of another type leaves the default in place.
#pragma once
#include <napi.h>

#include <string>
#include <type_traits>

namespace vidlm {

template <class T>
void ReadOption(const Napi::Object & o, const char * key, T & dst) {
  const Napi::Value v = o.Get(key);
  if constexpr (std::is_same_v<T, bool>) {
    if (v.IsBoolean()) dst = v.As<Napi::Boolean>().Value();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.IsString()) dst = v.As<Napi::String>().Utf8Value();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v.IsNumber()) dst = static_cast<T>(v.As<Napi::Number>().DoubleValue());
  } else {
    if (v.IsNumber()) dst = static_cast<T>(v.As<Napi::Number>().Int64Value());
  }
}

}  // namespace vidlm
