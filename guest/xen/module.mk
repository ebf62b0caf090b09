# guest/xen/: the Xen PV platform layer of the guest runtime (filled in next).
