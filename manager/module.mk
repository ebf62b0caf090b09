# manager/: the host side.  Each part keeps its own fragment:
#   elf.mk   the ELF loader (manager/elf/) and kxctl
#   hv.mk    hypervisor backends (manager/hv/), kxd   (later)
-include manager/elf.mk
-include manager/hv.mk
