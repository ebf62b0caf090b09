# manager/: the host side, one folder per library or program, each with its
# own fragment (a missing one is an error, not a silent skip):
#   elf/     the ELF loader (libkxelf.a)
#   gate/    the gate: every decision, the audit log (libkxgate.a)
#   chan/    the kxd<->kxmon channel: message layouts and their checks
#   hv/      the monitor's core and its backends (libkxhv.a)
#   jail/    the monitor's jail (libkxjail.a)
#   kxmon/   the per-pVM monitor (libkxmon.a + kxmon)
#   kxd/     the mapper daemon and its control protocol (libkxdproto.a + kxd)
#   kxctl/   the operator's client
include manager/elf/module.mk
include manager/gate/module.mk
include manager/chan/module.mk
include manager/hv/module.mk
include manager/jail/module.mk
include manager/kxmon/module.mk
include manager/kxd/module.mk
include manager/kxctl/module.mk
