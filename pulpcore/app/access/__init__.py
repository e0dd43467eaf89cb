"""Role-based access control: effective permissions, the access-policy permission class,
conditions, creation hooks, queryset scoping and the shipped roles/policies sync."""
