# Sourced helpers for test hosts in network namespaces. Addresses come from 198.18.0.0/15 only;
# every namespace made here is deleted by ns_cleanup (call it from an EXIT trap).
NS_CREATED=()

ns_create() {  # name
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1"
  NS_CREATED+=("$1")
  ip -n "$1" link set lo up
  # Keep the link quiet: no IPv6 autoconfiguration chatter on test links.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
}

ns_cleanup() {
  local ns
  for ns in "${NS_CREATED[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  NS_CREATED=()
}

# Waits up to $3 seconds for the kernel interface $2 to appear inside namespace $1.
ns_wait_link() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Waits up to $3 seconds (default 10) for a line matching grep pattern $2 in file $1 (an app's
# readiness line in its log).
ns_wait_ready() {
  local i
  for ((i = 0; i < ${3:-10} * 10; i++)); do
    grep -q "$2" "$1" && return 0
    sleep 0.1
  done
  return 1
}

# Brings up the kernel side of a tap the app created: waits up to $3 seconds (default 10) for interface
# $2 in namespace $1, gives it 198.18.0.1/24 (or $4) and sets it up.
ns_peer_up() {
  ns_wait_link "$1" "$2" "${3:-10}" || return 1
  ip -n "$1" addr add "${4:-198.18.0.1/24}" dev "$2"
  ip -n "$1" link set "$2" up
}

# A veth pair between namespaces: ns_veth_pair NS_A IF_A ADDR_A NS_B IF_B [ADDR_B] moves IF_A into
# NS_A with ADDR_A and IF_B into NS_B (with ADDR_B when given), MTU 1500, both up.
ns_veth_pair() {
  ip link add "$2" type veth peer name "$5"
  ip link set "$2" netns "$1"
  ip link set "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  [[ -n ${6:-} ]] && ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" mtu 1500 up
  ip -n "$4" link set "$5" mtu 1500 up
}

# For a script that runs one synack app in namespace $1 on tap interface $2: sets ns, iface and log
# (a temporary file), clears pid, creates the namespace, and installs an EXIT trap that stops $pid
# with SIGINT, deletes the namespaces and removes the log.
ns_app_setup() {
  ns=$1
  iface=${2:0:15}
  log=$(mktemp)
  pid=
  trap ns_app_teardown EXIT
  ns_create "$ns"
}
ns_app_teardown() {
  [[ -n ${pid:-} ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ns_cleanup
  rm -f "$log"
}
