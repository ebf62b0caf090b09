# manager/: the host side.  Each part keeps its own fragment:
#   elf.mk   the ELF loader (manager/elf/) and kxctl
#   hv.mk    hypervisor backends (manager/hv/) and the per-pVM monitor
#   gate.mk  the gate (manager/gate/): every decision, the audit log
#   kxd.mk   the daemon kxd (manager/kxd/) and kxctl
-include manager/elf.mk
-include manager/hv.mk
-include manager/gate.mk
-include manager/kxd.mk
-include manager/update.mk
