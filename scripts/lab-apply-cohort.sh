#!/usr/bin/env bash
# Applies one rollout cohort's env plan to the embedded lab's control service, as a deploy would
# to a real one: the control reads OA_RUNTIME_CANARY_USER_PERCENT, OA_RUNTIME_CANARY_AUTOPILOT_PERCENT,
# OA_RUNTIME_SHADOW_ENABLED, OA_RUNTIME_SHADOW_SAMPLE_RATE and OA_RUNTIME_FORCE_CONTROL_SERVICE at
# start; the lab takes them as its `runtime_routing` knob (POST /lab/knobs).
#
#   sentinel rollout staging --config config/lab.yaml --apply-command scripts/lab-apply-cohort.sh
#
# SENTINEL_LAB_ADMIN_URL is the lab's admin API (default http://127.0.0.1:17303, `sentinel lab`'s).
set -euo pipefail

admin="${SENTINEL_LAB_ADMIN_URL:-http://127.0.0.1:17303}"
user="${OA_RUNTIME_CANARY_USER_PERCENT:?OA_RUNTIME_CANARY_USER_PERCENT is not set (run me through --apply-command)}"
autopilot="${OA_RUNTIME_CANARY_AUTOPILOT_PERCENT:-$user}"
shadow="${OA_RUNTIME_SHADOW_ENABLED:-false}"
rate="${OA_RUNTIME_SHADOW_SAMPLE_RATE:-1.0}"
force="${OA_RUNTIME_FORCE_CONTROL_SERVICE:-false}"

for v in "$user" "$autopilot"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "lab-apply-cohort: not a percentage: $v" >&2; exit 2; }
done
[[ "$shadow" == true || "$shadow" == false ]] || { echo "lab-apply-cohort: OA_RUNTIME_SHADOW_ENABLED must be true or false" >&2; exit 2; }
[[ "$force" == true || "$force" == false ]] || { echo "lab-apply-cohort: OA_RUNTIME_FORCE_CONTROL_SERVICE must be true or false" >&2; exit 2; }
[[ "$rate" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "lab-apply-cohort: OA_RUNTIME_SHADOW_SAMPLE_RATE must be a ratio" >&2; exit 2; }

body="$(printf '{"runtime_routing":{"canary_user_percent":%s,"canary_autopilot_percent":%s,"shadow_enabled":%s,"shadow_sample_rate":%s,"force_control_service":%s}}' \
  "$user" "$autopilot" "$shadow" "$rate" "$force")"
curl -fsS --max-time 10 -X POST -H 'content-type: application/json' --data "$body" "${admin%/}/lab/knobs" >/dev/null
echo "lab: canary ${user}/${autopilot}%, shadow ${shadow} at ${rate}, force_control_service ${force}"
