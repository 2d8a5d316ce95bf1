#!/bin/bash
# Prints, every 2 s, how this machine's CPU time was spent (deltas of the `cpu` line of
# /proc/stat, in % of one core): user, nice, system, idle, iowait, irq, softirq, steal.
# Run it alongside run.sh to see what the 'all cpu%' column holds besides the servers and the
# load generator: on a VM, "steal" is time its vCPUs were ready but the hypervisor ran
# something else. Stop it with Ctrl-C (or kill).
prev=($(head -1 /proc/stat))
while true; do
  sleep 2
  cur=($(head -1 /proc/stat))
  printf "%s user %d nice %d sys %d idle %d iowait %d irq %d softirq %d steal %d\n" "$(date +%T)" \
    $(( (cur[1]-prev[1])/2 )) $(( (cur[2]-prev[2])/2 )) $(( (cur[3]-prev[3])/2 )) \
    $(( (cur[4]-prev[4])/2 )) $(( (cur[5]-prev[5])/2 )) $(( (cur[6]-prev[6])/2 )) \
    $(( (cur[7]-prev[7])/2 )) $(( (cur[8]-prev[8])/2 ))
  prev=("${cur[@]}")
done
