/** The OpenAPI 3.1 description of the JSON API; the server serves it at /api/v1/openapi.json. */
import { ERRORS } from '../core/errors.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: unknown) => ({ description, ...json(schema) });
const errors = {
  '400': { description: 'Malformed request', ...json(ref('Error')) },
  '401': { description: 'No valid token', ...json(ref('Error')) },
  '307': { description: 'Another node holds this session object; repeat the request at Location' },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Session id' };
const userParam = {
  name: 'userId',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'User id or username',
};

export function openApiDocument(): Record<string, unknown> {
  const sessionAction = (summary: string) => ({
    post: { summary, parameters: [idParam], responses: { '200': ok('The session', ref('Session')), ...errors } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Presence and IM API',
      version: '1',
      description:
        'Log in for a bearer token (the resume token of a session object); send it as `Authorization: Bearer`. ' +
        'Live events come over the WebSocket at /api/v1/ws?token=... (JSON frames: message, presence, invite, ' +
        'member, contact-request, read; send {type:"send",ref,sessionId,text} and get {type:"ack",ref,message}).',
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/login': {
        post: {
          summary: 'Log in with username and password; returns a resume token',
          security: [],
          requestBody: json({
            type: 'object',
            required: ['username', 'password'],
            properties: { username: { type: 'string' }, password: { type: 'string' } },
          }),
          responses: {
            '201': ok('Logged in', {
              type: 'object',
              properties: { token: { type: 'string' }, sessionObjectId: { type: 'string' }, user: ref('User') },
            }),
            '401': { description: 'Wrong username or password', ...json(ref('Error')) },
            '423': { description: 'Locked after too many failures', ...json(ref('Error')) },
            '429': { description: 'Too many log-in tries; see Retry-After', ...json(ref('Error')) },
          },
        },
      },
      '/api/v1/logout': { post: { summary: 'End the session object', responses: { '204': { description: 'Done' } } } },
      '/api/v1/password': {
        post: {
          summary: "Change your password; ends the user's other session objects, keeps this one",
          requestBody: json({
            type: 'object',
            required: ['currentPassword', 'newPassword'],
            properties: { currentPassword: { type: 'string' }, newPassword: { type: 'string' } },
          }),
          responses: {
            '200': ok('Changed', {
              type: 'object',
              properties: { changed: { type: 'boolean' }, endedSessions: { type: 'integer' } },
            }),
            ...errors,
          },
        },
      },
      '/api/v1/me': {
        get: {
          summary: 'Who you are and your presence',
          responses: { '200': ok('You', { type: 'object' }), ...errors },
        },
      },
      '/api/v1/presence': {
        put: {
          summary: 'Choose your presence',
          requestBody: json({
            type: 'object',
            required: ['state'],
            properties: {
              state: { enum: ['online', 'away', 'busy', 'offline'] },
              statusText: { type: ['string', 'null'], maxLength: 140 },
            },
          }),
          responses: { '200': ok('Your presence as others see it', ref('Presence')), ...errors },
        },
      },
      '/api/v1/contacts': {
        get: {
          summary: 'Your buddy list with presence, and the requests waiting for you',
          responses: {
            '200': ok('Contacts', {
              type: 'object',
              properties: { contacts: { type: 'array', items: ref('Contact') }, requests: { type: 'array' } },
            }),
            ...errors,
          },
        },
        post: {
          summary: 'Ask to add a contact (they approve)',
          requestBody: json({ type: 'object', properties: { username: { type: 'string' } } }),
          responses: { '200': ok('The subscription state', { type: 'object' }), ...errors },
        },
      },
      '/api/v1/contacts/{userId}/approve': {
        post: {
          summary: 'Approve a contact request',
          parameters: [userParam],
          responses: { '200': ok('Contacts', {}) },
        },
      },
      '/api/v1/contacts/{userId}/decline': {
        post: {
          summary: 'Decline a contact request',
          parameters: [userParam],
          responses: { '204': { description: 'Done' } },
        },
      },
      '/api/v1/contacts/{userId}': {
        delete: { summary: 'Remove a contact', parameters: [userParam], responses: { '204': { description: 'Done' } } },
      },
      '/api/v1/sessions': {
        get: {
          summary: 'Your IM sessions (invited or joined)',
          responses: { '200': ok('Sessions', { type: 'object' }), ...errors },
        },
        post: {
          summary: 'Start a session by inviting contacts',
          requestBody: json({
            type: 'object',
            required: ['invitees'],
            properties: { invitees: { type: 'array', items: { type: ['string', 'integer'] } } },
          }),
          responses: { '201': ok('The session', ref('Session')), ...errors },
        },
      },
      '/api/v1/sessions/{id}': {
        get: { summary: 'A session', parameters: [idParam], responses: { '200': ok('The session', ref('Session')) } },
      },
      '/api/v1/sessions/{id}/invite': {
        post: {
          summary: 'Invite another contact',
          parameters: [idParam],
          requestBody: json({ type: 'object', properties: { username: { type: 'string' } } }),
          responses: { '200': ok('The session', ref('Session')), ...errors },
        },
      },
      '/api/v1/sessions/{id}/accept': sessionAction('Accept an invitation'),
      '/api/v1/sessions/{id}/decline': sessionAction('Decline an invitation'),
      '/api/v1/sessions/{id}/leave': sessionAction('Leave the session'),
      '/api/v1/sessions/{id}/messages': {
        get: {
          summary: 'Messages, oldest first: after a message id, or the latest',
          parameters: [
            idParam,
            { name: 'after', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } },
          ],
          responses: { '200': ok('Messages', { type: 'object' }), ...errors },
        },
        post: {
          summary: 'Send a text message; answered after it is stored durably',
          parameters: [idParam],
          requestBody: json({ type: 'object', required: ['text'], properties: { text: { type: 'string' } } }),
          responses: {
            '201': ok('The stored message', ref('Message')),
            '403': { description: 'Not a joined member', ...json(ref('Error')) },
            '404': { description: 'No such session', ...json(ref('Error')) },
            '413': { description: 'Over the size limit', ...json(ref('Error')) },
            '429': { description: 'Too many messages (http.postsPerUser); see Retry-After', ...json(ref('Error')) },
            ...errors,
          },
        },
      },
      '/api/v1/unread': {
        get: {
          summary: 'Messages you have not read',
          parameters: [{ name: 'session', in: 'query', schema: { type: 'string' } }],
          responses: { '200': ok('Messages', { type: 'object' }), ...errors },
        },
      },
      '/api/v1/read': {
        post: {
          summary: 'Mark messages read',
          requestBody: json({
            type: 'object',
            properties: { messageIds: { type: 'array', items: { type: 'string' } } },
          }),
          responses: { '200': ok('The ids that changed', { type: 'object' }), ...errors },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                code: { enum: Object.keys(ERRORS) },
                message: { type: 'string' },
                details: { type: 'object' },
              },
            },
          },
        },
        User: {
          type: 'object',
          properties: { id: { type: 'integer' }, username: { type: 'string' }, displayName: { type: 'string' } },
        },
        Presence: {
          type: 'object',
          properties: {
            userId: { type: 'integer' },
            state: { enum: ['online', 'on-the-phone', 'away', 'busy', 'offline'] },
            statusText: { type: ['string', 'null'] },
          },
        },
        Contact: {
          type: 'object',
          properties: {
            userId: { type: 'integer' },
            username: { type: 'string' },
            displayName: { type: 'string' },
            subscription: { enum: ['approved', 'requested'] },
            presence: ref('Presence'),
          },
        },
        Session: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            ownerId: { type: 'integer' },
            createdAt: { type: 'integer' },
            members: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  userId: { type: 'integer' },
                  username: { type: 'string' },
                  state: { enum: ['invited', 'joined', 'declined', 'left'] },
                },
              },
            },
          },
        },
        Message: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            sessionId: { type: 'string' },
            fromUserId: { type: 'integer' },
            kind: { enum: ['text', 'voice'] },
            text: { type: ['string', 'null'] },
            audioId: { type: ['string', 'null'] },
            audioUrl: { type: ['string', 'null'] },
            createdAt: { type: 'integer' },
          },
        },
      },
    },
  };
}
