#!/usr/bin/env bash
# Bad command lines: a synack-* app ($1) prints one line naming the flag and exits non-zero, without
# starting DPDK.
set -u
bin=$1
name=$(basename "$bin")
source "$(dirname "$0")/lib.sh"
expect_flag_error "--ip is required" --
expect_flag_error "--ip" -- --ip 198.18.0.300/24
expect_flag_error "prefix" -- --ip 198.18.0.2
expect_flag_error "--gateway" -- --ip 198.18.0.2/24 --gateway 198.19.0.1
expect_flag_error "--port" -- --ip 198.18.0.2/24 --port 0
expect_flag_error "--port" -- --ip 198.18.0.2/24 --port
expect_flag_error "--bogus" -- --ip 198.18.0.2/24 --bogus 1
expect_flag_error "unexpected argument" -- --ip 198.18.0.2/24 stray
expect_flag_error "--syn-shed" -- --ip 198.18.0.2/24 --syn-shed maybe
expect_flag_error "--syn-cookies" -- --ip 198.18.0.2/24 --syn-cookies sometimes
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap ,count=5
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap /nonexistent-synack-dir/x.pcapng
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap /tmp/x.pcapng,count=0
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap /tmp/x.pcapng,count=lots
expect_flag_error "--pcap" -- --ip 198.18.0.2/24 --pcap /tmp/x.pcapng,snaplen=64
expect_flag_error "--pdump" --no-huge -- --ip 198.18.0.2/24 --pdump
expect_flag_error "--pdump" --no-shconf -- --ip 198.18.0.2/24 --pdump
if [[ $name == synack-httpd ]]; then
  expect_flag_error "--body-size" -- --ip 198.18.0.2/24 --body-size -1
  expect_flag_error "--body-size" -- --ip 198.18.0.2/24 --body-size 67108865
  expect_flag_error "--body-size" -- --ip 198.18.0.2/24 --body-size lots
fi
out=$("$bin" --help) && [[ $out == *"--ip"* ]] || { echo "FAIL: --help"; flag_errors=1; }
exit $flag_errors
