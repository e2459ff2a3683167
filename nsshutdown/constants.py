"""Every annotation key, label key and name this tool reads or writes, in one place.

Users and GitOps tools match on these strings (ArgoCD ``ignoreDifferences``, alert routes, kubectl
queries), so they are a contract: change them only with a migration note.
"""

from typing import Final

PREFIX: Final = "nsshutdown.io/"

# Overrides a human puts on a Namespace or a workload.
EXCLUDE: Final = PREFIX + "exclude"
KEEP_UP_UNTIL: Final = PREFIX + "keep-up-until"
KEEP_DOWN_UNTIL: Final = PREFIX + "keep-down-until"
#: On a Namespace (label or annotation): the schedule its team chose, by name, or ``none``.
SCHEDULE_CHOICE: Final = PREFIX + "schedule"
#: The ``schedule`` choice that opts a namespace out of every schedule (if the policy allows).
NO_SCHEDULE: Final = "none"
#: On a workload: how many replicas stay up while its namespace is down (default: the schedule's).
DOWN_REPLICAS: Final = PREFIX + "down-replicas"
#: On a workload: its wake-up tier (0 first), instead of the one its kind gets from ``wakeOrder``.
WAKE_TIER: Final = PREFIX + "wake-tier"

# State the tool writes on the workloads it scaled down; removed again by every restore.
ORIGINAL_REPLICAS: Final = PREFIX + "original-replicas"
ORIGINAL_SUSPEND: Final = PREFIX + "original-suspend"
ORIGINAL_PAUSED_REPLICAS: Final = PREFIX + "original-paused-replicas"
SHUTDOWN_AT: Final = PREFIX + "shutdown-at"
SHUTDOWN_BY: Final = PREFIX + "shutdown-by"
#: The count a shutdown left running, when not 0 (``downReplicas``): what "still down" means.
SCALED_TO: Final = PREFIX + "scaled-to"

#: The saved-state keys, one of which marks a workload as "held down by nsshutdown".
SAVED_STATE_KEYS: Final = (ORIGINAL_REPLICAS, ORIGINAL_SUSPEND, ORIGINAL_PAUSED_REPLICAS)
#: Every key the tool itself writes on a workload (restore deletes all of them).
OWN_WORKLOAD_KEYS: Final = (*SAVED_STATE_KEYS, SHUTDOWN_AT, SHUTDOWN_BY, SCALED_TO)

#: ``shutdown-by`` value for shutdowns made with ``nsshutdown shutdown``.
MANUAL: Final = "manual"

#: Field manager of every write: lets ``managedFields`` and ArgoCD's ``managedFieldsManagers``
#: tell this tool's changes apart from everyone else's.
FIELD_MANAGER: Final = "nsshutdown"

#: Who reports the Events of ``--events`` (events.k8s.io/v1 ``reportingController``; core/v1
#: ``source.component`` is ``EVENT_COMPONENT``): ``kubectl describe`` shows it under "From".
EVENT_REPORTING_CONTROLLER: Final = "nsshutdown.io/nsshutdown"
EVENT_COMPONENT: Final = "nsshutdown"

# Annotations owned by other projects that the tool reads or writes.
KEDA_PAUSED_REPLICAS: Final = "autoscaling.keda.sh/paused-replicas"
KARPENTER_DO_NOT_DISRUPT: Final = "karpenter.sh/do-not-disrupt"

#: Never scaled by any command, with or without a schedule: the cluster's own workloads (CoreDNS,
#: kube-proxy, node leases). ``excludeNamespaces`` adds to them; nothing removes them.
PROTECTED_NAMESPACES: Final = frozenset({"kube-system", "kube-public", "kube-node-lease"})

# Environment variable read by the in-cluster deployment to learn its own namespace.
POD_NAMESPACE_ENV: Final = "POD_NAMESPACE"

TRUE_VALUES: Final = frozenset({"true", "yes", "1"})
