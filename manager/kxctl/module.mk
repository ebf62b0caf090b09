# manager/kxctl: the operator's client, one file per verb behind one command
# table (main.c).
PROGS += kxctl
kxctl_SRCS := manager/kxctl/main.c manager/kxctl/client.c manager/kxctl/inspect.c \
	manager/kxctl/run.c manager/kxctl/list.c manager/kxctl/link.c manager/kxctl/kill.c \
	manager/kxctl/stop.c manager/kxctl/audit.c manager/kxctl/update.c
kxctl_SRCS += manager/kxctl/reload.c
kxctl_LIBS := kxelf kxdproto kxgate kxp kxsig
kxctl_LDLIBS := -lsodium -lpthread
