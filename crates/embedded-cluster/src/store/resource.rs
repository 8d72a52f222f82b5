//! The resource types the embedded cluster serves, and the facts about each that discovery, routing,
//! validation and RBAC need. Adding a type is adding a row here (plus validation if it has any).

/// A served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// core/v1 namespaces (cluster-scoped).
    Namespaces,
    /// core/v1 configmaps.
    ConfigMaps,
    /// core/v1 pods (with `status` and `log` subresources).
    Pods,
    /// core/v1 events.
    Events,
    /// core/v1 serviceaccounts (a `default` one in every namespace).
    ServiceAccounts,
    /// batch/v1 jobs.
    Jobs,
    /// authorization.k8s.io/v1 selfsubjectaccessreviews (create only, never stored).
    SelfSubjectAccessReviews,
    /// rbac.authorization.k8s.io/v1 roles.
    Roles,
    /// rbac.authorization.k8s.io/v1 rolebindings.
    RoleBindings,
    /// rbac.authorization.k8s.io/v1 clusterroles (cluster-scoped).
    ClusterRoles,
    /// rbac.authorization.k8s.io/v1 clusterrolebindings (cluster-scoped).
    ClusterRoleBindings,
    /// argoproj.io/v1alpha1 workflows (unstructured).
    Workflows,
    /// argoproj.io/v1alpha1 workflowtemplates (unstructured).
    WorkflowTemplates,
    /// argoproj.io/v1alpha1 workflowtaskresults (unstructured): what Argo's executor reports per node.
    WorkflowTaskResults,
}

/// Static description of a resource type.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Which resource this describes.
    pub resource: Resource,
    /// API group; empty for the core group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// URL segment, e.g. `pods`.
    pub plural: &'static str,
    /// Singular name, e.g. `pod`.
    pub singular: &'static str,
    /// Object kind, e.g. `Pod`.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Verbs on the collection and objects.
    pub verbs: &'static [&'static str],
    /// Subresources served (`status`, `log`).
    pub subresources: &'static [&'static str],
    /// kubectl categories (`all`).
    pub categories: &'static [&'static str],
    /// Field selector keys beyond `metadata.name` / `metadata.namespace`.
    pub field_labels: &'static [&'static str],
    /// Whether objects are kept (false for review-style resources).
    pub stored: bool,
}

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

const CRUD: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// Every served resource, in discovery order.
pub static RESOURCES: &[ResourceInfo] = &[
    ResourceInfo {
        resource: Resource::Namespaces,
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        verbs: &["create", "delete", "get", "list", "patch", "update", "watch"],
        subresources: &["status"],
        categories: &[],
        field_labels: &["status.phase"],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::ConfigMaps,
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::Pods,
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        verbs: CRUD,
        subresources: &["status", "log"],
        categories: &["all"],
        field_labels: &[
            "status.phase",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.podIP",
        ],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::Events,
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::ServiceAccounts,
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::Jobs,
        group: "batch",
        version: "v1",
        plural: "jobs",
        singular: "job",
        kind: "Job",
        namespaced: true,
        short_names: &[],
        verbs: CRUD,
        subresources: &["status"],
        categories: &["all"],
        field_labels: &["status.successful"],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::SelfSubjectAccessReviews,
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        short_names: &[],
        verbs: &["create"],
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: false,
    },
    ResourceInfo {
        resource: Resource::Roles,
        group: RBAC_GROUP,
        version: "v1",
        plural: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        short_names: &[],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::RoleBindings,
        group: RBAC_GROUP,
        version: "v1",
        plural: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        short_names: &[],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::ClusterRoles,
        group: RBAC_GROUP,
        version: "v1",
        plural: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        short_names: &[],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::ClusterRoleBindings,
        group: RBAC_GROUP,
        version: "v1",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        short_names: &[],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::Workflows,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "workflows",
        singular: "workflow",
        kind: "Workflow",
        namespaced: true,
        short_names: &["wf"],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::WorkflowTemplates,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "workflowtemplates",
        singular: "workflowtemplate",
        kind: "WorkflowTemplate",
        namespaced: true,
        short_names: &["wftmpl"],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
    ResourceInfo {
        resource: Resource::WorkflowTaskResults,
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "workflowtaskresults",
        singular: "workflowtaskresult",
        kind: "WorkflowTaskResult",
        namespaced: true,
        short_names: &[],
        verbs: CRUD,
        subresources: &[],
        categories: &[],
        field_labels: &[],
        stored: true,
    },
];

impl Resource {
    /// The static facts about this resource.
    pub fn info(self) -> &'static ResourceInfo {
        // RESOURCES holds one row per variant, in declaration order.
        &RESOURCES[self as usize]
    }

    /// Every stored resource type.
    pub fn stored() -> impl Iterator<Item = Resource> {
        RESOURCES.iter().filter(|r| r.stored).map(|r| r.resource)
    }
}

impl ResourceInfo {
    /// `apiVersion` of this resource's objects, e.g. `batch/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `kind` of this resource's list, e.g. `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Finds the resource served at `group`/`version` under `plural`.
    pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
        RESOURCES.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Finds the resource for an object's `apiVersion` and `kind`.
    pub fn for_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
        RESOURCES.iter().find(|r| r.kind == kind && r.api_version() == api_version)
    }

    /// Whether field selectors may use `key` on this resource.
    pub fn supports_field(&self, key: &str) -> bool {
        key == "metadata.name" || (self.namespaced && key == "metadata.namespace") || self.field_labels.contains(&key)
    }

    /// Whether `status` is a subresource (the main resource then ignores status changes).
    pub fn has_status_subresource(&self) -> bool {
        self.subresources.contains(&"status")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_own_row() {
        for (i, info) in RESOURCES.iter().enumerate() {
            assert_eq!(info.resource as usize, i, "row {i} is {:?}", info.resource);
            assert_eq!(info.resource.info(), info);
        }
    }

    #[test]
    fn lookup_by_path_and_kind() {
        let jobs = ResourceInfo::lookup("batch", "v1", "jobs").expect("jobs served");
        assert_eq!(jobs.kind, "Job");
        assert_eq!(ResourceInfo::for_kind("argoproj.io/v1alpha1", "Workflow").map(|r| r.plural), Some("workflows"));
        assert!(ResourceInfo::lookup("", "v1", "secrets").is_none());
    }
}
