#!/bin/sh
# The core (decoders, fault engine, API surfaces) must build freestanding for
# every target a hypervisor runs on, need no symbol beyond memcpy/memset/memcmp/memmove,
# and keep no mutable global state.
set -eu
top=${1:-$(dirname "$0")/..}
cd "$top"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

sources=$(ls src/core/*.c src/arch/*/*.c src/sel4vm/*.c)
# _GLOBAL_OFFSET_TABLE_ is defined by the linker for position-independent code, not a library.
allowed="memcpy memset memcmp memmove _GLOBAL_OFFSET_TABLE_"
checked=0
failed=0
for cc in gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc riscv64-linux-gnu-gcc; do
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "freestanding: $cc not installed (scripts/install-deps.sh installs it)"
        failed=1
        continue
    fi
    inc=$($cc -print-file-name=include)
    objs=""
    for s in $sources; do
        o="$out/$cc-$(echo "$s" | tr / _).o"
        $cc -std=c11 -O2 -ffreestanding -nostdinc -isystem "$inc" -Iinclude -Wall -Wextra -Werror -c "$s" -o "$o"
        objs="$objs $o"
    done
    prefix=${cc%gcc}
    # shellcheck disable=SC2086
    ${prefix}ld -r -o "$out/$cc-core.o" $objs
    for sym in $(${prefix}nm -u "$out/$cc-core.o" | awk '{print $2}'); do
        case " $allowed " in
            *" $sym "*) ;;
            *) echo "freestanding: $cc: core needs '$sym'"; failed=1 ;;
        esac
    done
    # Writable data: .data/.bss/common; .data.rel.ro is constant once relocated.
    mutable=$(${prefix}objdump -t "$out/$cc-core.o" |
        awk '$NF != "" && ($(NF-2) ~ /^\.(data|bss|sdata|sbss)($|\.)/ || $(NF-2) == "*COM*") &&
             $(NF-2) !~ /^\.data\.rel\.ro/ && $(NF-2) != $NF {print $NF}')
    if [ -n "$mutable" ]; then
        echo "freestanding: $cc: mutable globals: $mutable"
        failed=1
    fi
    checked=$((checked + 1))
done
echo "freestanding: core checked for $checked targets"
exit $failed
