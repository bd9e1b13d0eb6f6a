// emu_registry.h: maps kernel names to type-erased entry points. EMU_REGISTER(kernel) in a generated unit deduces the
// kernel's parameter types and unpacks cuLaunchKernel-style arguments (an array of pointers, one per parameter).
#pragma once
#include <utility>

namespace emu
{
using KernelEntry = void (*)(void** args);

struct Registrar
{
    Registrar(const char* name, KernelEntry entry);
};

template <class... P, size_t... I> void invoke(void (*kernel)(P...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<P*>(args[I])...);
}

template <class... P> void call(void (*kernel)(P...), void** args) { invoke(kernel, args, std::index_sequence_for<P...>{}); }

template <auto Kernel> void entry(void** args) { call(Kernel, args); }
} // namespace emu

#define EMU_REGISTER(kernel) static emu::Registrar emu_registrar_##kernel(#kernel, &emu::entry<&kernel>);
