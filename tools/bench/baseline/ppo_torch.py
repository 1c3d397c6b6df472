#!/usr/bin/python3
"""ppo_torch -- the reference for tools/bench/bench_ppo.sh: PPO written the way the course we
replace (and most tutorials) write it, with PyTorch (Debian's python3-torch) and a NumPy
CartPole-v1, with the same algorithm and hyperparameters as tutord's trainer (actors/trainer/
td_ppo.c): separate tanh MLPs with orthogonal init, GAE(lambda) with bootstrapping through
truncation, clipped surrogate, per-minibatch advantage normalisation, Adam(eps=1e-5), global
gradient-norm clipping, learning rate annealed linearly to 0, n_envs environments side by side.

"Solved": every 10 updates the greedy policy plays 100 evaluation episodes; solved when their
mean reaches 475. Prints one line of figures per seed, labelled torch_tN (N: torch threads).

Threads: PPO_TORCH_THREADS=1 (the default here: tutord trains a run on one core) or "default"
(PyTorch's own choice, one per core); tools/bench/bench_ppo.sh runs both.

usage: ppo_torch.py SEED [TOTAL_STEPS] [HIDDEN]
"""

import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

_threads = os.environ.get("PPO_TORCH_THREADS", "1")
if _threads != "default":
    torch.set_num_threads(int(_threads))    # tutord's trainer uses one core per run
LABEL = "torch_t%d" % torch.get_num_threads()

N_ENVS, N_STEPS, BATCH, EPOCHS = 8, 32, 256, 10
GAMMA, LAMBDA, LR, CLIP, ENT, VF, MAX_NORM = 0.98, 0.8, 1e-3, 0.2, 0.0, 0.5, 0.5


class CartPole:
    """Gymnasium's CartPole-v1 dynamics, vectorised over n environments."""

    def __init__(self, n, rng):
        self.n, self.rng = n, rng
        self.s = rng.uniform(-0.05, 0.05, (n, 4))
        self.t = np.zeros(n, dtype=np.int64)

    def reset_one(self, i):
        self.s[i] = self.rng.uniform(-0.05, 0.05, 4)
        self.t[i] = 0

    def step(self, a):
        x, xd, th, thd = self.s.T
        f = np.where(a == 1, 10.0, -10.0)
        c, sn = np.cos(th), np.sin(th)
        temp = (f + 0.05 * thd ** 2 * sn) / 1.1
        tha = (9.8 * sn - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c ** 2 / 1.1))
        xa = temp - 0.05 * tha * c / 1.1
        self.s = np.stack([x + 0.02 * xd, xd + 0.02 * xa, th + 0.02 * thd, thd + 0.02 * tha], 1)
        self.t += 1
        x, th = self.s[:, 0], self.s[:, 2]
        term = (x < -2.4) | (x > 2.4) | (th < -12 * 2 * math.pi / 360) | (th > 12 * 2 * math.pi / 360)
        trunc = (~term) & (self.t >= 500)
        return np.ones(self.n), term, trunc


def mlp(sizes, out_gain):
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])        # float32, as PyTorch code is written
        last = i == len(sizes) - 2
        nn.init.orthogonal_(lin.weight, out_gain if last else math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def evaluate(pi, seed, episodes=100):
    env = CartPole(1, np.random.default_rng(seed))
    total = []
    for _ in range(episodes):
        env.reset_one(0)
        r = 0.0
        while True:
            with torch.no_grad():
                a = pi(torch.from_numpy(env.s).float()).argmax(1).numpy()
            rew, term, trunc = env.step(a)
            r += rew[0]
            if term[0] or trunc[0]:
                break
        total.append(r)
    return float(np.mean(total))


def main():
    seed = int(sys.argv[1])
    total_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    hidden = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    pi, vf = mlp([4, hidden, hidden, 2], 0.01), mlp([4, hidden, hidden, 1], 1.0)
    params = list(pi.parameters()) + list(vf.parameters())
    opt = torch.optim.Adam(params, lr=LR, eps=1e-5)
    env = CartPole(N_ENVS, rng)
    obs = env.s.copy()
    steps, updates, train_time, solved_at, mean = 0, 0, 0.0, None, 0.0
    B = N_ENVS * N_STEPS
    while steps < total_steps:
        t0 = time.perf_counter()
        b_obs = np.zeros((N_STEPS, N_ENVS, 4)); b_act = np.zeros((N_STEPS, N_ENVS), dtype=np.int64)
        b_logp = np.zeros((N_STEPS, N_ENVS)); b_val = np.zeros((N_STEPS, N_ENVS))
        b_rew = np.zeros((N_STEPS, N_ENVS)); b_done = np.zeros((N_STEPS, N_ENVS))
        for t in range(N_STEPS):
            with torch.no_grad():
                o = torch.from_numpy(obs).float()
                dist = torch.distributions.Categorical(logits=pi(o))
                a = dist.sample()
                b_logp[t] = dist.log_prob(a).numpy()
                b_val[t] = vf(o).squeeze(1).numpy()
            b_obs[t], b_act[t] = obs, a.numpy()
            rew, term, trunc = env.step(a.numpy())
            if trunc.any():
                with torch.no_grad():
                    fv = vf(torch.from_numpy(env.s).float()).squeeze(1).numpy()
                rew = rew + GAMMA * fv * trunc
            done = term | trunc
            for i in np.nonzero(done)[0]:
                env.reset_one(i)
            obs = env.s.copy()
            b_rew[t], b_done[t] = rew, done
        steps += B
        with torch.no_grad():
            last = vf(torch.from_numpy(obs).float()).squeeze(1).numpy()
        adv = np.zeros((N_STEPS, N_ENVS)); gae = np.zeros(N_ENVS)
        for t in reversed(range(N_STEPS)):
            nv = last if t == N_STEPS - 1 else b_val[t + 1]
            nt = 1.0 - b_done[t]
            delta = b_rew[t] + GAMMA * nv * nt - b_val[t]
            gae = delta + GAMMA * LAMBDA * nt * gae
            adv[t] = gae
        ret = adv + b_val
        for g in opt.param_groups:
            g["lr"] = LR * max(0.0, 1.0 - steps / total_steps)
        fo = torch.from_numpy(b_obs.reshape(B, 4)).float(); fa = torch.from_numpy(b_act.reshape(B))
        fl = torch.from_numpy(b_logp.reshape(B)).float(); fadv = torch.from_numpy(adv.reshape(B)).float()
        fret = torch.from_numpy(ret.reshape(B)).float()
        for _ in range(EPOCHS):
            perm = torch.randperm(B)
            for s in range(0, B, BATCH):
                idx = perm[s:s + BATCH]
                dist = torch.distributions.Categorical(logits=pi(fo[idx]))
                logp = dist.log_prob(fa[idx])
                a_ = fadv[idx]
                a_ = (a_ - a_.mean()) / (a_.std() + 1e-8)
                ratio = torch.exp(logp - fl[idx])
                pg = -torch.min(ratio * a_, torch.clamp(ratio, 1 - CLIP, 1 + CLIP) * a_).mean()
                vl = ((vf(fo[idx]).squeeze(1) - fret[idx]) ** 2).mean()
                loss = pg - ENT * dist.entropy().mean() + VF * vl
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, MAX_NORM)
                opt.step()
        updates += 1
        train_time += time.perf_counter() - t0
        if updates % 10 == 0:
            mean = evaluate(pi, 999)
            if mean >= 475:
                solved_at = steps
                break
    print("%s seed=%d solved=%s steps=%d train_s=%.2f steps_per_s=%.0f eval_mean=%.1f"
          % (LABEL, seed, solved_at is not None, steps, train_time, steps / train_time, mean))


if __name__ == "__main__":
    main()
