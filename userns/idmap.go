package userns

import (
	"fmt"
	"strconv"
)

// MinSubIDs is the number of ids a rootless container needs: 0 through
// 65535, so that images which use nobody (65534) and the usual system users
// can be extracted and run. It matches shadow-utils' default SUB_UID_COUNT.
const MinSubIDs = 65536

// IDMap maps Size consecutive ids starting at ContainerID inside the
// namespace to ids starting at HostID outside it, as one line of
// /proc/PID/uid_map.
type IDMap struct {
	ContainerID int64 `json:"container_id"`
	HostID      int64 `json:"host_id"`
	Size        int64 `json:"size"`
}

// Mapping is the uid and gid mapping of a user namespace.
type Mapping struct {
	UIDs []IDMap `json:"uids"`
	GIDs []IDMap `json:"gids"`
}

// BuildMaps maps container id 0 to hostID and then every range in order
// to container ids 1, 2, ... It rejects a range that contains hostID,
// because the kernel refuses maps in which one host id appears twice.
func BuildMaps(hostID int, ranges []SubIDRange) ([]IDMap, error) {
	maps := []IDMap{{ContainerID: 0, HostID: int64(hostID), Size: 1}}
	next := int64(1)
	for _, r := range ranges {
		if int64(hostID) >= r.Start && int64(hostID) < r.End() {
			return nil, fmt.Errorf("range %d-%d: %w %d", r.Start, r.End()-1, ErrRangeOverlapsUser, hostID)
		}
		maps = append(maps, IDMap{ContainerID: next, HostID: r.Start, Size: r.Count})
		next += r.Count
	}
	return maps, nil
}

// Size returns the number of ids the maps cover.
func Size(maps []IDMap) int64 {
	var n int64
	for _, m := range maps {
		n += m.Size
	}
	return n
}

// ToHost returns the host id that container id maps to, or false when the
// id is not mapped.
func ToHost(maps []IDMap, id int64) (int64, bool) {
	for _, m := range maps {
		if id >= m.ContainerID && id < m.ContainerID+m.Size {
			return m.HostID + id - m.ContainerID, true
		}
	}
	return 0, false
}

// ToContainer returns the container id that host id maps to, or false when
// the id is not mapped.
func ToContainer(maps []IDMap, id int64) (int64, bool) {
	for _, m := range maps {
		if id >= m.HostID && id < m.HostID+m.Size {
			return m.ContainerID + id - m.HostID, true
		}
	}
	return 0, false
}

// MapToolArgs returns the arguments of newuidmap or newgidmap (without the
// program name) that write maps for process pid: "PID ID HOSTID SIZE ...".
func MapToolArgs(pid int, maps []IDMap) []string {
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		args = append(args,
			strconv.FormatInt(m.ContainerID, 10),
			strconv.FormatInt(m.HostID, 10),
			strconv.FormatInt(m.Size, 10))
	}
	return args
}
