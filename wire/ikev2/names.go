package ikev2

import "strconv"

// nameOr returns names[v] if present and non-empty, else prefix(v).
func nameOr(names []string, v int, prefix string) string {
	if v >= 0 && v < len(names) && names[v] != "" {
		return names[v]
	}
	return prefix + "(" + strconv.Itoa(v) + ")"
}
