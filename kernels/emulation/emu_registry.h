// emu_registry.h: maps kernel names to type-erased entry points. EMU_REGISTER(kernel) in a generated unit deduces the
// kernel's parameter types and unpacks cuLaunchKernel-style arguments (an array of pointers, one per parameter). It
// also records the signature (parameter count; for each pointer parameter the alignment its pointee needs), so a
// launch with the wrong argument count or a misaligned pointer is refused by name instead of reading garbage.
#pragma once
#include <cstdint>
#include <type_traits>
#include <utility>

namespace emu
{
using KernelEntry = void (*)(void** args);

constexpr int MaxParams = 16;

struct Signature
{
    int count = 0;
    // 0 for a value parameter, else the alignment of the pointee (1 for void*).
    int pointeeAlign[MaxParams] = {};
};

struct Registrar
{
    Registrar(const char* name, KernelEntry entry, Signature signature);
};

template <class P> constexpr int pointee_align()
{
    if constexpr (!std::is_pointer_v<P>) return 0;
    else
    {
        using T = std::remove_cv_t<std::remove_pointer_t<P>>;
        if constexpr (std::is_void_v<T>) return 1;
        else return (int)alignof(T);
    }
}

template <class... P> constexpr Signature signature_of(void (*)(P...))
{
    static_assert(sizeof...(P) <= MaxParams, "a kernel takes at most 16 arguments");
    Signature s;
    s.count = (int)sizeof...(P);
    int i = 0;
    ((s.pointeeAlign[i++] = pointee_align<P>()), ...);
    return s;
}

template <class... P, size_t... I> void invoke(void (*kernel)(P...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<P*>(args[I])...);
}

template <class... P> void call(void (*kernel)(P...), void** args) { invoke(kernel, args, std::index_sequence_for<P...>{}); }

template <auto Kernel> void entry(void** args) { call(Kernel, args); }
} // namespace emu

#define EMU_REGISTER(kernel) static emu::Registrar emu_registrar_##kernel(#kernel, &emu::entry<&kernel>, emu::signature_of(&kernel));
