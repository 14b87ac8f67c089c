package initproc

// The container init reports to its parent over a SOCK_SEQPACKET socket,
// one JSON message per packet. The socket is close-on-exec in the init, so
// the parent reads end-of-file exactly when the container's process was
// executed:
//
//	parent (gocker)                      init (/proc/self/exe, new namespaces)
//	start init, fds 3 (sync), 4 (spec) --> blocks reading fd 4
//	newuidmap, newgidmap (rootless)
//	hooks: cgroup (moves the init)
//	write Spec to fd 4, close it ------> reads Spec, now root in its namespaces
//	                                      enters a new cgroup namespace
//	                                      mounts the root filesystem
//	receive pty master <----------------- {"type":"pty"} + fd (with -t only)
//	re-emit log lines <------------------ {"type":"log"} (any time)
//	                                      pivot_root, user, capabilities
//	receive bind listener <-------------- {"type":"bind-listener"} + fd
//	                                      (port_handler=bypass only)
//	on {"type":"error"}: fail <---------- {"type":"error","code":127}, exit
//	on end-of-file: running <------------ execve(2) closes fd 3
const (
	MsgError = "error"
	MsgLog   = "log"
	MsgPTY   = "pty"
	// MsgBindListener carries the listener of the filter that
	// [Spec.NotifyBind] requests.
	MsgBindListener = "bind-listener"
)

// SyncMessage is one packet on the sync socket.
type SyncMessage struct {
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
	Code    int    `json:"code,omitempty"`  // exit status for MsgError
	Level   string `json:"level,omitempty"` // slog level name for MsgLog
}

// MaxSyncMessage is the receive buffer for one packet; the init's messages
// are short, and longer ones are truncated by the kernel, never split.
const MaxSyncMessage = 64 << 10
