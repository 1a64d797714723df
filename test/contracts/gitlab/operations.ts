/** The REST operations the gitlab provider uses: what vendor.ts cuts out of GitLab's description. */
export const GITLAB_OPERATIONS: { method: 'get' | 'post' | 'put'; path: string; operationId: string }[] = [
  { method: 'get', path: '/api/v4/projects/{id}/merge_requests', operationId: 'getApiV4ProjectsIdMergeRequests' },
  { method: 'post', path: '/api/v4/projects/{id}/merge_requests', operationId: 'postApiV4ProjectsIdMergeRequests' },
  {
    method: 'get',
    path: '/api/v4/projects/{id}/merge_requests/{merge_request_iid}',
    operationId: 'getApiV4ProjectsIdMergeRequestsMergeRequestIid',
  },
  {
    method: 'put',
    path: '/api/v4/projects/{id}/merge_requests/{merge_request_iid}',
    operationId: 'putApiV4ProjectsIdMergeRequestsMergeRequestIid',
  },
  {
    method: 'put',
    path: '/api/v4/projects/{id}/merge_requests/{merge_request_iid}/merge',
    operationId: 'putApiV4ProjectsIdMergeRequestsMergeRequestIidMerge',
  },
  {
    method: 'post',
    path: '/api/v4/projects/{id}/merge_requests/{noteable_id}/notes',
    operationId: 'postApiV4ProjectsIdMergeRequestsNoteableIdNotes',
  },
  { method: 'get', path: '/api/v4/users', operationId: 'getApiV4Users' },
];
