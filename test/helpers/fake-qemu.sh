#!/bin/sh
# Stands in for qemu-system-x86_64 in the launcher's unit tests: finds the results share
# in -append, "boots", runs the per-run script's command part with sh, and exits.
#   FAKE_QEMU_MODE=hang    never finishes (timeout test)
#   FAKE_QEMU_MODE=nostatus powers off without running the command
share=$(printf '%s\n' "$@" | sed -n 's/.*phyr\.share=\([^ ]*\).*/\1/p')
echo "SeaBIOS (fake)"
echo "boot noise" >&2
case "$FAKE_QEMU_MODE" in
  hang) exec sleep 30 ;;
  nostatus) echo "Kernel panic - not syncing: fake"; exit 0 ;;
esac
# The guest script binds devices and reserves hugepages first; here only the command runs.
sed -n '/^cd /,$p' "$share/guest.sh" > "$share/fake.sh"
PHYR_VM_SHARE=$share share=$share sh "$share/fake.sh"
echo "reboot: Power down"
