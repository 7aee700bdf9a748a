FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev && mkdir /keys /state && chown node:node /keys /state
USER node
EXPOSE 8080
CMD ["node", "dist/src/cli/main.js", "gateway"]
