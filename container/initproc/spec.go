package initproc

// Spec is everything the container init needs to build the container's
// root filesystem and start its process. The parent writes it as JSON to
// the init's spec pipe once the id maps exist.
type Spec struct {
	ID       string `json:"id"`
	Rootless bool   `json:"rootless"`

	// LayersDir is the directory the init changes into before mounting
	// overlay, so that Layers can be short relative paths: the mount(2)
	// options must fit in one page.
	LayersDir string   `json:"layers_dir"`
	Layers    []string `json:"layers"` // lower dirs, topmost first: relative to LayersDir, or absolute
	UpperDir  string   `json:"upper_dir"`
	WorkDir   string   `json:"work_dir"`
	MergedDir string   `json:"merged_dir"`
	// Volatile mounts the overlay without syncing its upper filesystem,
	// for a container that is removed when it exits.
	Volatile bool `json:"volatile,omitempty"`

	Args     []string `json:"args"`
	Env      []string `json:"env"`
	Cwd      string   `json:"cwd"`
	User     string   `json:"user,omitempty"` // USER[:GROUP], names resolved in the image
	Hostname string   `json:"hostname"`
	Terminal bool     `json:"terminal,omitempty"`
	// ConsoleRows and ConsoleCols are the pty's size before the process
	// starts: the size of the user's terminal, or 0 to leave it unset.
	ConsoleRows uint16 `json:"console_rows,omitempty"`
	ConsoleCols uint16 `json:"console_cols,omitempty"`

	ReadOnly     bool     `json:"read_only,omitempty"`
	Capabilities []string `json:"capabilities"` // names such as CAP_CHOWN
	// Seccomp is the filter that the init installs right before it
	// executes the command; nil runs the command unconfined.
	Seccomp *SeccompFilter `json:"seccomp,omitempty"`
	// NotifyBind makes the init install a second filter that passes the
	// command's bind(2) calls to the parent (SECCOMP_RET_USER_NOTIF), and
	// send the parent that filter's listener before the command runs.
	NotifyBind bool `json:"notify_bind,omitempty"`
	NewNetNS   bool `json:"new_netns"`
	// Cgroups is the host's cgroup layout for /sys/fs/cgroup; nil
	// leaves it empty.
	Cgroups *CgroupFS `json:"cgroups,omitempty"`
	Mounts  []Mount   `json:"mounts,omitempty"`
	// EtcFiles are the generated /etc/hosts, /etc/hostname and
	// /etc/resolv.conf, which the init mounts over those paths of the
	// container.
	EtcFiles []EtcFile `json:"etc_files,omitempty"`
	// Debug makes the init send its steps as debug log lines.
	Debug bool `json:"debug,omitempty"`
	// Init keeps the init as PID 1, forwarding signals and reaping
	// orphans, and runs the command as its child.
	Init bool `json:"init,omitempty"`
}

// EtcFile is a file the init mounts into the container.
type EtcFile struct {
	Destination string `json:"destination"`
	Data        []byte `json:"data"`
}

// Mount is a bind mount from the host into the container.
type Mount struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}
